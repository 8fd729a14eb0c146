//! Contract tests of the document repository (quotes, orders, invoices, payments), called
//! directly on both backends.

use chrono::{Days, NaiveDate};
use crm_domain::RepoError;
use crm_domain::account::{Account, AccountDraft};
use crm_domain::address::Tags;
use crm_domain::audit::AuditAction;
use crm_domain::invoice::{Invoice, PaymentDraft, PaymentMethod};
use crm_domain::lead::ArchivedFilter;
use crm_domain::lines::{LineItem, Lines, Quantity, Totals};
use crm_domain::list::{Sort, SortDirection, Window};
use crm_domain::money::{Currency, Money};
use crm_domain::opportunity::{Opportunity, OpportunityDraft};
use crm_domain::order::{DocumentSortField, Order};
use crm_domain::product::{Percent, Product, ProductDraft, Sku};
use crm_domain::quote::{DocumentKind, DocumentNumber, Quote, QuoteDraft, QuoteQuery, QuoteStatus};
use crm_domain::value::{CustomFields, LongText, Name};
use uuid::Uuid;

use crate::contracts::{ctx, first_page, now, open, seed};
use crate::helpers::Backend;
use crate::on_both_backends;

on_both_backends!(documents_are_numbered_versioned_and_written_whole);

fn eur() -> Currency {
    Currency::parse("c", "EUR").unwrap_or_else(|e| panic!("{e:?}"))
}

fn one_line(unit_price: i64) -> Lines {
    let line = LineItem::price(
        "l",
        None,
        LongText::from_trusted("Work".into()),
        Quantity::from_thousandths(1500),
        unit_price,
        Percent::from_hundredths(0),
        Percent::from_hundredths(550),
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let totals = Totals::of(std::slice::from_ref(&line)).unwrap_or_else(|e| panic!("{e:?}"));
    Lines { currency: eur(), items: vec![line], totals }
}

async fn documents_are_numbered_versioned_and_written_whole(backend: Backend) {
    let (store, _dir) = open(&backend).await;
    let (organization, admin) = seed(&store, "admin@example.com").await;
    let (other_org, other_admin) = seed(&store, "other@example.com").await;
    let draft = AccountDraft {
        name: Name::from_trusted("Buyer".into()),
        industry: None,
        website: None,
        phone: None,
        email: None,
        billing_address: None,
        shipping_address: None,
        employee_count: None,
        annual_revenue: None,
        tier: None,
        lifecycle_stage: None,
        tags: Tags::from_trusted(Vec::new()),
        parent_account_id: None,
        owner_id: None,
        description: None,
        custom_fields: None,
    };
    let account = Account::create(Uuid::now_v7(), organization.id, admin.id, draft, now()).unwrap();
    store.insert_account(&account, &ctx(&admin)).await.unwrap();
    let deal_draft = OpportunityDraft {
        name: Name::from_trusted("Deal".into()),
        account_id: Some(account.id),
        contact_id: None,
        amount: Some(Money { amount: 1, currency: eur() }),
        stage: None,
        probability: None,
        expected_close_date: None,
        kind: None,
        lead_source: None,
        next_step: None,
        owner_id: None,
        description: None,
        custom_fields: None,
    };
    let (deal, first) = Opportunity::create(Uuid::now_v7(), organization.id, admin.id, deal_draft, now()).unwrap();
    store.insert_opportunity(&deal, &first, &ctx(&admin)).await.unwrap();

    // Products are read in one query, only the organisation's.
    let product = |org: Uuid, by: Uuid, sku: &str| {
        let draft = ProductDraft {
            name: Name::from_trusted(sku.to_owned()),
            sku: Sku::from_trusted(sku.to_owned()),
            description: None,
            unit_price: Money { amount: 100, currency: eur() },
            tax_rate: None,
            active: None,
            custom_fields: None,
        };
        Product::create(Uuid::now_v7(), org, by, draft, now())
    };
    let (ours, theirs) = (product(organization.id, admin.id, "A-1"), product(other_org.id, other_admin.id, "B-1"));
    store.insert_product(&ours, &ctx(&admin)).await.unwrap();
    store.insert_product(&theirs, &ctx(&other_admin)).await.unwrap();
    let read = store.get_many::<Product>(organization.id, &[ours.id, theirs.id, Uuid::now_v7()]).await;
    assert_eq!(read.ok(), Some(vec![ours.clone()]));
    assert_eq!(store.get_many::<Product>(organization.id, &[]).await.ok(), Some(Vec::new()));

    // Numbers come from the store, whatever the quote carried.
    let new_quote = |valid_until: Option<NaiveDate>| {
        let draft = QuoteDraft {
            opportunity_id: deal.id,
            valid_until,
            notes: None,
            custom_fields: CustomFields::empty(),
            owner_id: None,
        };
        Quote::create(
            Uuid::now_v7(),
            DocumentNumber::new(DocumentKind::Quote, 99),
            admin.id,
            draft,
            &deal,
            one_line(1000),
            now(),
        )
        .unwrap()
    };
    let today = now().date_naive();
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let mut stored = Vec::new();
    for valid_until in [None, Some(yesterday), Some(today)] {
        stored.push(store.insert_quote(&new_quote(valid_until), &ctx(&admin)).await.unwrap());
    }
    let numbers: Vec<&str> = stored.iter().map(|q| q.number.number.as_str()).collect();
    assert_eq!(numbers, ["Q-000001", "Q-000002", "Q-000003"]);
    assert_eq!(store.get::<Quote>(organization.id, stored[0].id).await.ok(), Some(stored[0].clone()));
    assert!(matches!(store.get::<Quote>(other_org.id, stored[0].id).await, Err(RepoError::NotFound)));

    // Two of them sent; the one valid until yesterday reads as expired, in lists too.
    let mut sent = Vec::new();
    for quote in &stored[1..] {
        let (next, changes) = quote.send(yesterday, now()).unwrap();
        store.save(&next, 1, AuditAction::Update, &changes, &ctx(&admin)).await.unwrap();
        sent.push(next);
    }
    assert!(matches!(
        store.save(&sent[0], 1, AuditAction::Update, &[], &ctx(&admin)).await,
        Err(RepoError::VersionMismatch { current: 2 })
    ));
    let list = |statuses: Vec<QuoteStatus>| QuoteQuery {
        statuses,
        opportunity_id: None,
        account_id: None,
        owner_id: None,
        today,
        archived: ArchivedFilter::Exclude,
        sort: Sort { field: DocumentSortField::Number, direction: SortDirection::Ascending },
        window: Window::new(None, None).unwrap_or_else(|e| panic!("{e:?}")),
    };
    let numbers_of =
        |page: crm_domain::list::Page<Quote>| page.items.into_iter().map(|q| q.number.sequence).collect::<Vec<_>>();
    let expired = store.list_quotes(organization.id, &list(vec![QuoteStatus::Expired])).await.unwrap();
    assert_eq!(numbers_of(expired), [2]);
    let current = store.list_quotes(organization.id, &list(vec![QuoteStatus::Sent])).await.unwrap();
    assert_eq!(numbers_of(current), [3]);
    let none = store.list_quotes(other_org.id, &list(Vec::new())).await.unwrap();
    assert!(none.items.is_empty());

    // Accepting against a stale deal writes nothing.
    let acceptance = sent[1].accept(&deal, Uuid::now_v7(), admin.id, today, now()).unwrap();
    let order = Order::from_quote(
        acceptance.quote.order_id.unwrap_or_default(),
        DocumentNumber::new(DocumentKind::Order, 0),
        &acceptance.quote,
        None,
        admin.id,
        now(),
    );
    assert!(matches!(
        store.accept_quote(&acceptance, sent[1].version, deal.version + 1, &order, &ctx(&admin)).await,
        Err(RepoError::VersionMismatch { .. })
    ));
    assert_eq!(store.get::<Quote>(organization.id, sent[1].id).await.ok(), Some(sent[1].clone()));
    assert!(matches!(store.get::<Order>(organization.id, order.id).await, Err(RepoError::NotFound)));
    let stored_order =
        store.accept_quote(&acceptance, sent[1].version, deal.version, &order, &ctx(&admin)).await.unwrap();
    assert_eq!(stored_order.number.number, "SO-000001");
    assert_eq!(store.get::<Order>(organization.id, order.id).await.ok(), Some(stored_order.clone()));
    assert_eq!(store.get::<Quote>(organization.id, sent[1].id).await.ok(), Some(acceptance.quote.clone()));
    let won = store.get::<Opportunity>(organization.id, deal.id).await.unwrap();
    assert_eq!(won, acceptance.opportunity);

    // One invoice per order that is not void; payments land with the invoice or not at all.
    let invoice = Invoice::from_order(
        Uuid::now_v7(),
        DocumentNumber::new(DocumentKind::Invoice, 0),
        &stored_order,
        admin.id,
        now(),
    )
    .unwrap();
    let invoice = store.insert_invoice(&invoice, &ctx(&admin)).await.unwrap();
    let twin = Invoice { id: Uuid::now_v7(), ..invoice.clone() };
    assert!(matches!(store.insert_invoice(&twin, &ctx(&admin)).await, Err(RepoError::Duplicate { field: "order_id" })));
    assert_eq!(store.find_invoice_of_order(organization.id, stored_order.id).await.ok(), Some(Some(invoice.clone())));
    let (issued, changes) = invoice.issue(None, None, today, now()).unwrap();
    store.save(&issued, 1, AuditAction::Update, &changes, &ctx(&admin)).await.unwrap();
    let draft = PaymentDraft {
        amount: Money { amount: 500, currency: eur() },
        paid_at: now(),
        method: PaymentMethod::Card,
        reference: None,
    };
    let (paid_part, changes, payment) = issued.pay(Uuid::now_v7(), draft, admin.id, now()).unwrap();
    assert!(matches!(
        store.record_payment(&paid_part, 1, &changes, &payment, &ctx(&admin)).await,
        Err(RepoError::VersionMismatch { current: 2 })
    ));
    assert_eq!(
        store.list_payments(organization.id, invoice.id, &first_page()).await.map(|p| p.items.len()).ok(),
        Some(0)
    );
    store.record_payment(&paid_part, 2, &changes, &payment, &ctx(&admin)).await.unwrap();
    assert_eq!(
        store.list_payments(organization.id, invoice.id, &first_page()).await.map(|p| p.items).ok(),
        Some(vec![payment])
    );
    assert_eq!(store.get::<Invoice>(organization.id, invoice.id).await.ok(), Some(paid_part));
    assert_eq!(store.list_payments(other_org.id, invoice.id, &first_page()).await.map(|p| p.items.len()).ok(), Some(0));
    assert!(matches!(store.get::<Invoice>(other_org.id, invoice.id).await, Err(RepoError::NotFound)));
}
