//! The permission matrix: which role may do what to which resource, and over whose records.
//! It is the only place that decides; handlers ask it through [`authorize`].

use uuid::Uuid;

use crate::string_enum;
use crate::user::Principal;

string_enum!(
    /// What a user is allowed to do in their organisation.
    Role {
        Admin => "admin",
        Manager => "manager",
        SalesRep => "sales_rep",
        SupportAgent => "support_agent",
    }
);

/// The kinds of records the matrix speaks of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// Sales records: leads (and, later, accounts, contacts, opportunities, quotes).
    SalesRecord,
    /// The organisation's users.
    User,
    /// The audit trail.
    AuditEvent,
    /// The price book: products and their prices.
    PriceBook,
    /// Competitors and their products.
    Competitor,
    /// Activities: interactions and planned work. Every role logs them on the records it reads.
    Activity,
    /// The organisation's settings (the attention and SLA policies).
    Settings,
    /// Support tickets. Every role reads them; support agents, managers and admins work them,
    /// whoever owns them (a queue is worked by the whole team, and a ticket may be unassigned);
    /// only managers and admins give a ticket to someone else.
    Ticket,
    /// Comments on support tickets. Every role reads them and writes them, but a public comment
    /// (one the customer sees) or a customer's reply needs the right to work tickets; only admins
    /// redact one.
    TicketComment,
    /// A new contact: a sales record, which a support agent may also create (a new customer
    /// calls support). Reading and changing contacts follows [`Resource::SalesRecord`].
    NewContact,
}

impl Resource {
    fn describe(self) -> &'static str {
        match self {
            Resource::SalesRecord => "this sales record",
            Resource::User => "users",
            Resource::AuditEvent => "the audit trail",
            Resource::PriceBook => "the price book",
            Resource::Competitor => "competitors",
            Resource::Activity => "this activity",
            Resource::Settings => "the organisation's settings",
            Resource::Ticket => "support tickets",
            Resource::TicketComment => "comments on support tickets",
            Resource::NewContact => "contacts",
        }
    }
}

impl Action {
    fn describe(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "change",
            Action::Reassign => "give to another owner",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    /// Change fields, archive or restore.
    Update,
    /// Give a record to another owner (or create one owned by someone else).
    Reassign,
}

/// How far a permission reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Not allowed at all.
    Nothing,
    /// Only records the user owns.
    Own,
    /// Every record of the organisation.
    All,
}

/// The matrix itself. README.md prints the same table; `the_matrix_matches_the_documented_table`
/// keeps the two honest.
pub fn reach(role: Role, resource: Resource, action: Action) -> Reach {
    use Action::*;
    use Reach::*;
    use Resource::*;
    match (resource, action, role) {
        (SalesRecord, _, Role::Admin | Role::Manager) => All,
        (SalesRecord, Read | Create, Role::SalesRep) => All,
        (SalesRecord, Update, Role::SalesRep) => Own,
        (SalesRecord, Reassign, Role::SalesRep) => Nothing,
        (SalesRecord, Read, Role::SupportAgent) => All,
        (SalesRecord, _, Role::SupportAgent) => Nothing,
        (User, Read, _) => All,
        (User, _, Role::Admin) => All,
        (User, _, _) => Nothing,
        (AuditEvent, Read, Role::Admin | Role::Manager) => All,
        (AuditEvent, _, _) => Nothing,
        (PriceBook, Read, _) => All,
        (PriceBook, _, Role::Admin | Role::Manager) => All,
        (PriceBook, _, _) => Nothing,
        (Competitor, Read, _) => All,
        (Competitor, _, Role::Admin | Role::Manager) => All,
        (Competitor, _, _) => Nothing,
        (Activity, Read | Create, _) => All,
        (Activity, _, Role::Admin | Role::Manager) => All,
        (Activity, Update, Role::SalesRep | Role::SupportAgent) => Own,
        (Activity, Reassign, Role::SalesRep | Role::SupportAgent) => Nothing,
        (Settings, Read, _) => All,
        (Settings, Update, Role::Admin | Role::Manager) => All,
        (Settings, _, _) => Nothing,
        (Ticket, Read, _) => All,
        (Ticket, Create | Update, Role::Admin | Role::Manager | Role::SupportAgent) => All,
        (Ticket, Reassign, Role::Admin | Role::Manager) => All,
        (Ticket, _, _) => Nothing,
        (TicketComment, Read | Create, _) => All,
        (TicketComment, Update, Role::Admin) => All,
        (TicketComment, _, _) => Nothing,
        (NewContact, Create, _) => All,
        (NewContact, action, role) => reach(role, SalesRecord, action),
    }
}

/// Refused: the role does not reach this record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {role} role may not {} {}", action.describe(), resource.describe())]
pub struct Forbidden {
    pub role: Role,
    pub resource: Resource,
    pub action: Action,
}

/// Decides whether `role` may perform `action` on a record; `is_owner` says whether the acting
/// user owns it (for a create: whether the new record will be owned by the actor).
///
/// # Errors
/// [`Forbidden`] when the matrix does not reach the record.
pub fn authorize(role: Role, resource: Resource, action: Action, is_owner: bool) -> Result<(), Forbidden> {
    match reach(role, resource, action) {
        Reach::All => Ok(()),
        Reach::Own if is_owner => Ok(()),
        _ => Err(Forbidden { role, resource, action }),
    }
}

/// Whether `principal` may change (edit, archive, restore, move through its states) a record of
/// `resource` owned by `owner`; `None` for records nobody owns (the price book, competitors),
/// which only a role that reaches all of them may change.
///
/// # Errors
/// [`Forbidden`] when the matrix does not reach the record.
pub fn may_change(principal: &Principal, resource: Resource, owner: Option<Uuid>) -> Result<(), Forbidden> {
    authorize(principal.role, resource, Action::Update, owner == Some(principal.user_id))
}

/// Whether `principal` may give a record owned by `current_owner` (for a new record: the
/// creator) to `new_owner`. Keeping the owner, or naming none, needs no right.
///
/// # Errors
/// [`Forbidden`] when the role may not reassign.
pub fn may_assign(
    principal: &Principal,
    resource: Resource,
    current_owner: Uuid,
    new_owner: Option<Uuid>,
) -> Result<(), Forbidden> {
    match new_owner {
        Some(owner) if owner != current_owner => authorize(principal.role, resource, Action::Reassign, false),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_rule_reaches_only_the_owners_records() {
        let me = Uuid::now_v7();
        let someone = Uuid::now_v7();
        let rep = Principal { user_id: me, organization_id: Uuid::now_v7(), role: Role::SalesRep };
        let manager = Principal { role: Role::Manager, ..rep };
        let support = Principal { role: Role::SupportAgent, ..rep };
        assert_eq!(may_change(&rep, Resource::SalesRecord, Some(me)), Ok(()));
        assert!(may_change(&rep, Resource::SalesRecord, Some(someone)).is_err());
        assert!(may_change(&rep, Resource::PriceBook, None).is_err());
        assert_eq!(may_change(&manager, Resource::SalesRecord, Some(someone)), Ok(()));
        assert_eq!(may_change(&manager, Resource::PriceBook, None), Ok(()));
        assert!(may_change(&support, Resource::SalesRecord, Some(me)).is_err());
        assert_eq!(may_assign(&rep, Resource::SalesRecord, me, None), Ok(()));
        assert_eq!(may_assign(&rep, Resource::SalesRecord, me, Some(me)), Ok(()));
        assert!(may_assign(&rep, Resource::SalesRecord, me, Some(someone)).is_err());
        assert_eq!(may_assign(&manager, Resource::SalesRecord, me, Some(someone)), Ok(()));
    }

    #[test]
    fn the_matrix_matches_the_documented_table() {
        // Role order: admin, manager, sales_rep, support_agent. Mirrors README.md.
        let table: &[(Resource, Action, [Reach; 4])] = &[
            (Resource::SalesRecord, Action::Read, [Reach::All, Reach::All, Reach::All, Reach::All]),
            (Resource::SalesRecord, Action::Create, [Reach::All, Reach::All, Reach::All, Reach::Nothing]),
            (Resource::SalesRecord, Action::Update, [Reach::All, Reach::All, Reach::Own, Reach::Nothing]),
            (Resource::SalesRecord, Action::Reassign, [Reach::All, Reach::All, Reach::Nothing, Reach::Nothing]),
            (Resource::User, Action::Read, [Reach::All, Reach::All, Reach::All, Reach::All]),
            (Resource::User, Action::Create, [Reach::All, Reach::Nothing, Reach::Nothing, Reach::Nothing]),
            (Resource::User, Action::Update, [Reach::All, Reach::Nothing, Reach::Nothing, Reach::Nothing]),
            (Resource::AuditEvent, Action::Read, [Reach::All, Reach::All, Reach::Nothing, Reach::Nothing]),
            (Resource::PriceBook, Action::Read, [Reach::All, Reach::All, Reach::All, Reach::All]),
            (Resource::PriceBook, Action::Create, [Reach::All, Reach::All, Reach::Nothing, Reach::Nothing]),
            (Resource::PriceBook, Action::Update, [Reach::All, Reach::All, Reach::Nothing, Reach::Nothing]),
            (Resource::Competitor, Action::Read, [Reach::All, Reach::All, Reach::All, Reach::All]),
            (Resource::Competitor, Action::Create, [Reach::All, Reach::All, Reach::Nothing, Reach::Nothing]),
            (Resource::Competitor, Action::Update, [Reach::All, Reach::All, Reach::Nothing, Reach::Nothing]),
            (Resource::Activity, Action::Read, [Reach::All, Reach::All, Reach::All, Reach::All]),
            (Resource::Activity, Action::Create, [Reach::All, Reach::All, Reach::All, Reach::All]),
            (Resource::Activity, Action::Update, [Reach::All, Reach::All, Reach::Own, Reach::Own]),
            (Resource::Activity, Action::Reassign, [Reach::All, Reach::All, Reach::Nothing, Reach::Nothing]),
            (Resource::Settings, Action::Read, [Reach::All, Reach::All, Reach::All, Reach::All]),
            (Resource::Settings, Action::Update, [Reach::All, Reach::All, Reach::Nothing, Reach::Nothing]),
            (Resource::Ticket, Action::Read, [Reach::All, Reach::All, Reach::All, Reach::All]),
            (Resource::Ticket, Action::Create, [Reach::All, Reach::All, Reach::Nothing, Reach::All]),
            (Resource::Ticket, Action::Update, [Reach::All, Reach::All, Reach::Nothing, Reach::All]),
            (Resource::Ticket, Action::Reassign, [Reach::All, Reach::All, Reach::Nothing, Reach::Nothing]),
            (Resource::TicketComment, Action::Read, [Reach::All, Reach::All, Reach::All, Reach::All]),
            (Resource::TicketComment, Action::Create, [Reach::All, Reach::All, Reach::All, Reach::All]),
            (Resource::TicketComment, Action::Update, [Reach::All, Reach::Nothing, Reach::Nothing, Reach::Nothing]),
            (
                Resource::TicketComment,
                Action::Reassign,
                [Reach::Nothing, Reach::Nothing, Reach::Nothing, Reach::Nothing],
            ),
        ];
        for (resource, action, expected) in table {
            for (role, want) in Role::ALL.iter().zip(expected) {
                assert_eq!(reach(*role, *resource, *action), *want, "{role} {resource:?} {action:?}");
            }
        }
    }

    #[test]
    fn a_sales_rep_may_update_only_what_it_owns() {
        assert!(authorize(Role::SalesRep, Resource::SalesRecord, Action::Update, true).is_ok());
        assert!(authorize(Role::SalesRep, Resource::SalesRecord, Action::Update, false).is_err());
        assert!(authorize(Role::SupportAgent, Resource::SalesRecord, Action::Update, true).is_err());
    }
}
