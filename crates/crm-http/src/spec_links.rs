//! OpenAPI links along the sale: how the answer of one operation feeds the next (a created deal
//! into a quote, a sent quote into its acceptance, the order into its invoice, the issued invoice
//! into its payment, and after the sale an account's support ticket through its steps). A client or a tool that follows links (schemathesis's stateful phase in CI)
//! walks the whole lifecycle with real records instead of ids that name nothing. Each link's
//! `requestBody` holds the fields it supplies; a tool merges them into a body of its own.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{OpenApi, RefOr};

/// One link: from an operation's answer with `status`, named `name`, to the operation `to`, with
/// its parameters (`path.id`, `header.If-Match`) and the JSON text of its body fields.
struct SpecLink {
    from: &'static str,
    status: &'static str,
    name: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
    body: Option<&'static str>,
}

/// The record the answer names, at the version it answers with.
const THIS_RECORD: &[(&str, &str)] = &[("path.id", "$response.body#/id"), ("header.If-Match", "$response.header.ETag")];
/// The order an accepted quote produced, at its version.
const ITS_ORDER: &[(&str, &str)] = &[("path.id", "$response.body#/order/id")];

const LINKS: &[SpecLink] = &[
    // The caller starts the sale: an account and a lead of their own.
    SpecLink {
        from: "me",
        status: "200",
        name: "OpenAnAccount",
        to: "create_account",
        parameters: &[],
        body: Some(r#"{"owner_id": "$response.body#/user/id", "parent_account_id": null}"#),
    },
    SpecLink {
        from: "me",
        status: "200",
        name: "RecordALead",
        to: "create_lead",
        parameters: &[],
        body: Some(r#"{"owner_id": "$response.body#/user/id"}"#),
    },
    SpecLink {
        from: "create_account",
        status: "201",
        name: "OpenADeal",
        to: "create_opportunity",
        parameters: &[],
        body: Some(
            r#"{"account_id": "$response.body#/id", "contact_id": null, "owner_id": "$response.body#/owner_id"}"#,
        ),
    },
    SpecLink {
        from: "create_lead",
        status: "201",
        name: "ConvertTheLead",
        to: "convert_lead",
        parameters: THIS_RECORD,
        body: Some(r#"{"account_id": null, "contact_id": null}"#),
    },
    SpecLink {
        from: "create_opportunity",
        status: "201",
        name: "QuoteTheDeal",
        to: "create_quote",
        parameters: &[],
        body: Some(
            r#"{"opportunity_id": "$response.body#/id", "owner_id": "$response.body#/owner_id", "currency": "EUR", "valid_until": "2099-12-31",
                "line_items": [{"description": "Consulting days", "quantity": 2, "unit_price": 150000, "tax_rate": 20}]}"#,
        ),
    },
    SpecLink {
        from: "create_quote",
        status: "201",
        name: "SendTheQuote",
        to: "send_quote",
        parameters: THIS_RECORD,
        body: None,
    },
    SpecLink {
        from: "send_quote",
        status: "200",
        name: "AcceptTheQuote",
        to: "accept_quote",
        parameters: THIS_RECORD,
        body: None,
    },
    SpecLink {
        from: "send_quote",
        status: "200",
        name: "RejectTheQuote",
        to: "reject_quote",
        parameters: THIS_RECORD,
        body: None,
    },
    SpecLink {
        from: "accept_quote",
        status: "200",
        name: "ConfirmTheOrder",
        to: "confirm_order",
        parameters: ITS_ORDER,
        body: None,
    },
    SpecLink {
        from: "accept_quote",
        status: "200",
        name: "InvoiceTheOrder",
        to: "invoice_order",
        parameters: ITS_ORDER,
        body: None,
    },
    SpecLink {
        from: "accept_quote",
        status: "200",
        name: "CancelTheOrder",
        to: "cancel_order",
        parameters: ITS_ORDER,
        body: None,
    },
    SpecLink {
        from: "confirm_order",
        status: "200",
        name: "FulfillTheOrder",
        to: "fulfill_order",
        parameters: THIS_RECORD,
        body: None,
    },
    SpecLink {
        from: "confirm_order",
        status: "200",
        name: "InvoiceTheOrder",
        to: "invoice_order",
        parameters: THIS_RECORD,
        body: None,
    },
    SpecLink {
        from: "fulfill_order",
        status: "200",
        name: "DeliverTheOrder",
        to: "deliver_order",
        parameters: THIS_RECORD,
        body: None,
    },
    SpecLink {
        from: "invoice_order",
        status: "201",
        name: "IssueTheInvoice",
        to: "issue_invoice",
        parameters: THIS_RECORD,
        body: Some(r#"{"issue_date": null, "due_date": "2099-12-31"}"#),
    },
    SpecLink {
        from: "create_invoice",
        status: "201",
        name: "IssueTheInvoice",
        to: "issue_invoice",
        parameters: THIS_RECORD,
        body: Some(r#"{"issue_date": null, "due_date": "2099-12-31"}"#),
    },
    SpecLink {
        from: "issue_invoice",
        status: "200",
        name: "PayTheBalance",
        to: "create_payment",
        parameters: THIS_RECORD,
        body: Some(
            r#"{"amount": {"amount": "$response.body#/balance_due", "currency": "$response.body#/currency"}, "paid_at": null, "method": "bank_transfer"}"#,
        ),
    },
    SpecLink {
        from: "issue_invoice",
        status: "200",
        name: "VoidTheInvoice",
        to: "void_invoice",
        parameters: THIS_RECORD,
        body: None,
    },
    // After the sale, support: a ticket for the account, started, answered, solved, reopened.
    SpecLink {
        from: "create_account",
        status: "201",
        name: "OpenATicket",
        to: "create_ticket",
        parameters: &[],
        body: Some(
            r#"{"account_id": "$response.body#/id", "contact_id": null, "opportunity_id": null, "order_id": null,
                "product_id": null, "owner_id": null}"#,
        ),
    },
    SpecLink {
        from: "create_ticket",
        status: "201",
        name: "StartTheTicket",
        to: "start_ticket",
        parameters: THIS_RECORD,
        body: None,
    },
    SpecLink {
        from: "start_ticket",
        status: "200",
        name: "AnswerTheCustomer",
        to: "create_ticket_comment",
        parameters: THIS_RECORD,
        body: Some(r#"{"visibility": "public", "author_contact_id": null}"#),
    },
    SpecLink {
        from: "create_ticket_comment",
        status: "201",
        name: "SolveTheTicket",
        to: "solve_ticket",
        parameters: &[("path.id", "$response.body#/ticket/id"), ("header.If-Match", "$response.header.ETag")],
        body: None,
    },
    SpecLink {
        from: "solve_ticket",
        status: "200",
        name: "ReopenTheTicket",
        to: "reopen_ticket",
        parameters: THIS_RECORD,
        body: None,
    },
];

fn operations_mut(openapi: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
    })
}

/// Adds [`LINKS`] to the answers they start from.
pub fn add_links(openapi: &mut OpenApi) {
    for operation in operations_mut(openapi) {
        let Some(id) = operation.operation_id.clone() else { continue };
        for link in LINKS.iter().filter(|link| link.from == id) {
            let Some(RefOr::T(response)) = operation.responses.responses.get_mut(link.status) else { continue };
            let mut builder = LinkBuilder::new().operation_id(link.to);
            for (name, expression) in link.parameters {
                builder = builder.parameter(*name, *expression);
            }
            if let Some(body) = link.body.and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok()) {
                builder = builder.request_body(Some(body));
            }
            response.links.insert(link.name.to_owned(), RefOr::T(builder.build()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_joins_two_operations_of_the_spec_with_a_valid_body() {
        let document = crate::openapi_document();
        let ids: Vec<String> =
            crate::openapi::operations(&document).filter_map(|operation| operation.operation_id.clone()).collect();
        for link in LINKS {
            assert!(ids.iter().any(|id| id == link.from), "{}", link.from);
            assert!(ids.iter().any(|id| id == link.to), "{}", link.to);
            if let Some(body) = link.body {
                assert!(serde_json::from_str::<serde_json::Value>(body).is_ok(), "{}: {body}", link.name);
            }
        }
    }
}
