// The closed sale as an integrator writes it: types generated from openapi/openapi.json by
// openapi-typescript, requests made with openapi-fetch, compiled with `tsc --strict`.
//
// Rules this file keeps, so that a type error here points at the spec and not at the client:
// no casts (`as`, `<T>x`, non-null `!`), no `any`, no type guards or `typeof` checks written to
// coerce a type. The only narrowing is openapi-fetch's ordinary `if (!result.data) throw ...` and
// `=== null` checks on values the spec documents as nullable.
//
// Usage: node dist/lifecycle.js <base-url>
import createClient from "openapi-fetch";
import type { components, paths } from "./api.js";

type Schemas = components["schemas"];

function failure(step: string, error: unknown, response: Response): Error {
  return new Error(
    `${step}: ${response.status} ${response.statusText} ${response.url}\n${JSON.stringify(error, null, 2)}`,
  );
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`assertion failed: ${what}`);
}

function checkEqual<T>(actual: T, expected: T, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`assertion failed: ${what}: expected ${e}, got ${a}`);
}

function step(message: string): void {
  console.log(`ok  ${message}`);
}

/** A date `days` days from today (UTC), as `YYYY-MM-DD`. */
function dateFromToday(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

async function main(): Promise<void> {
  const baseUrl = process.argv[2];
  if (baseUrl === undefined || baseUrl === "") {
    throw new Error("usage: node dist/lifecycle.js <base-url>");
  }
  const unique = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

  // --- signup: a fresh organisation and its admin.
  const anonymous = createClient<paths>({ baseUrl });
  const signup = await anonymous.POST("/api/v1/auth/signup", {
    body: {
      organization_name: `TS Client ${unique}`,
      name: "Ada Lovelace",
      email: `ada.${unique}@example.com`,
      password: "correct horse battery staple",
    },
  });
  if (!signup.data) throw failure("signup", signup.error, signup.response);
  const session: Schemas["TokenResponse"] = signup.data;
  checkEqual(signup.response.status, 201, "signup status");
  checkEqual(session.token_type, "Bearer", "token_type");
  checkEqual(session.user.role, "admin", "the first user's role");
  step(`signup: organisation ${session.organization.id}, admin ${session.user.email}`);

  const api = createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${session.access_token}` },
  });

  // --- a lead with a company, so that conversion creates an account.
  const leadResult = await api.POST("/api/v1/leads", {
    body: {
      first_name: "Charles",
      last_name: "Babbage",
      company: `Analytical Engines ${unique}`,
      email: `charles.${unique}@example.com`,
      source: "trade_show",
    },
  });
  if (!leadResult.data) throw failure("create lead", leadResult.error, leadResult.response);
  const lead = leadResult.data;
  checkEqual(lead.status, "new", "new lead status");
  step(`lead ${lead.id} created`);

  // --- convert it, with an opportunity that has an amount.
  const dealAmount: Schemas["MoneyDto"] = { amount: 5_000_000, currency: "EUR" };
  const conversionResult = await api.POST("/api/v1/leads/{id}/convert", {
    params: { path: { id: lead.id } },
    body: { opportunity: { name: `Engines ${unique}`, amount: dealAmount, stage: "qualification" } },
  });
  if (!conversionResult.data) {
    throw failure("convert lead", conversionResult.error, conversionResult.response);
  }
  const conversion = conversionResult.data;
  // The server always sends `account` and `opportunity` (an object, or null for a person without
  // a company / a body that asked for no deal). Typed as the spec should have them: required and
  // nullable. While the spec leaves them out of `required`, these two lines fail to compile.
  const account: Schemas["AccountResponse"] | null = conversion.account;
  const opportunity: Schemas["OpportunityResponse"] | null = conversion.opportunity;
  if (account === null) throw new Error("conversion of a lead with a company created no account");
  if (opportunity === null) throw new Error("conversion with an opportunity in the body created none");
  checkEqual(conversion.dry_run, false, "dry_run");
  checkEqual(conversion.lead.status, "converted", "converted lead status");
  checkEqual(conversion.lead.converted_account_id, account.id, "lead.converted_account_id");
  checkEqual(conversion.lead.converted_opportunity_id, opportunity.id, "lead.converted_opportunity_id");
  checkEqual(opportunity.account_id, account.id, "opportunity.account_id");
  checkEqual(opportunity.amount, dealAmount, "opportunity.amount");
  checkEqual(opportunity.stage, "qualification", "opportunity.stage");
  step(`lead converted: account ${account.id}, contact ${conversion.contact.id}, opportunity ${opportunity.id}`);

  // --- a product in the price book: 19.99 EUR, 19% tax.
  const productResult = await api.POST("/api/v1/products", {
    body: {
      name: "Difference Engine crank",
      sku: `CRANK-${unique}`,
      unit_price: { amount: 1999, currency: "EUR" },
      tax_rate: 19,
    },
  });
  if (!productResult.data) throw failure("create product", productResult.error, productResult.response);
  const product = productResult.data;
  checkEqual(product.unit_price, { amount: 1999, currency: "EUR" }, "product.unit_price");
  step(`product ${product.sku} created`);

  // --- a quote on the opportunity with one line naming the product (README's worked example:
  // 3 x 19.99 EUR with 10% off and 19% tax is subtotal 5997, discount 600, tax 1025, total 6422).
  const quoteResult = await api.POST("/api/v1/quotes", {
    body: {
      opportunity_id: opportunity.id,
      currency: "EUR",
      valid_until: dateFromToday(30),
      line_items: [{ product_id: product.id, quantity: 3, discount_percent: 10 }],
    },
  });
  if (!quoteResult.data) throw failure("create quote", quoteResult.error, quoteResult.response);
  const draft = quoteResult.data;
  checkEqual(draft.status, "draft", "new quote status");
  check(/^Q-\d{6}$/.test(draft.number), `quote number ${draft.number} is Q-NNNNNN`);
  checkEqual(draft.currency, "EUR", "quote.currency");
  checkEqual(
    [draft.subtotal, draft.discount_total, draft.tax_total, draft.total],
    [5997, 600, 1025, 6422],
    "quote subtotal, discount_total, tax_total, total",
  );
  const line = draft.line_items[0];
  if (line === undefined) throw new Error("the quote has no line");
  checkEqual(line.product_id, product.id, "line.product_id");
  checkEqual(line.description, product.name, "line.description defaults to the product's name");
  step(`quote ${draft.number} drafted, total ${draft.total} ${draft.currency}`);

  // --- send, then accept: accepting creates the order.
  const sendResult = await api.POST("/api/v1/quotes/{id}/send", {
    params: { path: { id: draft.id } },
  });
  if (!sendResult.data) throw failure("send quote", sendResult.error, sendResult.response);
  checkEqual(sendResult.data.status, "sent", "sent quote status");
  check(sendResult.data.sent_at != null, "sent quote has sent_at");
  step(`quote ${draft.number} sent`);

  const acceptResult = await api.POST("/api/v1/quotes/{id}/accept", {
    params: { path: { id: draft.id } },
  });
  if (!acceptResult.data) throw failure("accept quote", acceptResult.error, acceptResult.response);
  const accepted: Schemas["AcceptedQuote"] = acceptResult.data;
  const pending = accepted.order;
  checkEqual(accepted.quote.status, "accepted", "accepted quote status");
  checkEqual(accepted.quote.order_id, pending.id, "quote.order_id");
  checkEqual(pending.status, "pending", "new order status");
  checkEqual(pending.quote_id, draft.id, "order.quote_id");
  checkEqual(pending.total, draft.total, "order.total");
  check(/^SO-\d{6}$/.test(pending.number), `order number ${pending.number} is SO-NNNNNN`);
  step(`quote accepted: order ${pending.number} pending`);

  const dealResult = await api.GET("/api/v1/opportunities/{id}", {
    params: { path: { id: opportunity.id } },
  });
  if (!dealResult.data) throw failure("read opportunity", dealResult.error, dealResult.response);
  checkEqual(dealResult.data.stage, "closed_won", "opportunity stage after acceptance");
  checkEqual(dealResult.data.amount, { amount: draft.total, currency: "EUR" }, "won amount");
  step(`opportunity closed won at ${draft.total} EUR`);

  // --- the order ships: confirm, fulfill, deliver.
  const confirmResult = await api.POST("/api/v1/orders/{id}/confirm", {
    params: { path: { id: pending.id } },
  });
  if (!confirmResult.data) throw failure("confirm order", confirmResult.error, confirmResult.response);
  checkEqual(confirmResult.data.status, "confirmed", "confirmed order status");
  const fulfillResult = await api.POST("/api/v1/orders/{id}/fulfill", {
    params: { path: { id: pending.id } },
  });
  if (!fulfillResult.data) throw failure("fulfill order", fulfillResult.error, fulfillResult.response);
  checkEqual(fulfillResult.data.status, "fulfilled", "fulfilled order status");
  const deliverResult = await api.POST("/api/v1/orders/{id}/deliver", {
    params: { path: { id: pending.id } },
  });
  if (!deliverResult.data) throw failure("deliver order", deliverResult.error, deliverResult.response);
  const delivered = deliverResult.data;
  checkEqual(delivered.status, "delivered", "delivered order status");
  check(delivered.delivered_at != null, "delivered order has delivered_at");
  step(`order ${delivered.number} confirmed, fulfilled, delivered`);

  // --- invoice the order, issue the invoice.
  const invoiceResult = await api.POST("/api/v1/orders/{id}/invoice", {
    params: { path: { id: delivered.id } },
  });
  if (!invoiceResult.data) throw failure("invoice order", invoiceResult.error, invoiceResult.response);
  const draftInvoice = invoiceResult.data;
  checkEqual(invoiceResult.response.status, 201, "invoice order status code");
  checkEqual(draftInvoice.status, "draft", "new invoice status");
  checkEqual(draftInvoice.order_id, delivered.id, "invoice.order_id");
  checkEqual(draftInvoice.total, delivered.total, "invoice.total");
  check(/^INV-\d{6}$/.test(draftInvoice.number), `invoice number ${draftInvoice.number} is INV-NNNNNN`);
  step(`invoice ${draftInvoice.number} drafted from order ${delivered.number}`);

  const issueResult = await api.POST("/api/v1/invoices/{id}/issue", {
    params: { path: { id: draftInvoice.id } },
    body: { due_date: dateFromToday(14) },
  });
  if (!issueResult.data) throw failure("issue invoice", issueResult.error, issueResult.response);
  const invoice: Schemas["InvoiceResponse"] = issueResult.data;
  checkEqual(invoice.status, "issued", "issued invoice status");
  checkEqual(invoice.balance_due, invoice.total, "balance_due of an unpaid invoice");
  checkEqual(invoice.overdue, false, "overdue");
  step(`invoice ${invoice.number} issued, due ${invoice.due_date}, balance ${invoice.balance_due} ${invoice.currency}`);

  // --- pay the balance with the invoice's own total and currency: the point of this check is
  // that a document's money fields feed MoneyDto without a cast.
  const paymentResult = await api.POST("/api/v1/invoices/{id}/payments", {
    params: { path: { id: invoice.id } },
    body: {
      amount: { amount: invoice.total, currency: invoice.currency },
      method: "bank_transfer",
      reference: `SEPA ${invoice.number}`,
    },
  });
  if (!paymentResult.data) throw failure("record payment", paymentResult.error, paymentResult.response);
  const receipt: Schemas["PaymentReceipt"] = paymentResult.data;
  checkEqual(paymentResult.response.status, 201, "payment status code");
  checkEqual(receipt.payment.amount, { amount: invoice.total, currency: invoice.currency }, "payment.amount");
  checkEqual(receipt.payment.invoice_id, invoice.id, "payment.invoice_id");
  checkEqual(receipt.invoice.status, "paid", "invoice status in the receipt");
  step(`payment ${receipt.payment.id} of ${receipt.payment.amount.amount} ${receipt.payment.amount.currency} recorded`);

  // --- read the invoice back.
  const readBack = await api.GET("/api/v1/invoices/{id}", {
    params: { path: { id: invoice.id } },
  });
  if (!readBack.data) throw failure("read invoice", readBack.error, readBack.response);
  const paid = readBack.data;
  checkEqual(paid.status, "paid", "invoice status read back");
  checkEqual(paid.amount_paid, invoice.total, "amount_paid");
  checkEqual(paid.balance_due, 0, "balance_due");
  // Always sent (null until paid): typed as required and nullable, as the spec should say.
  const paidAt: string | null = paid.paid_at;
  check(paidAt !== null, "paid invoice has paid_at");
  checkEqual(readBack.response.headers.get("ETag"), `"${paid.version}"`, "ETag of the paid invoice");

  const payments = await api.GET("/api/v1/invoices/{id}/payments", {
    params: { path: { id: invoice.id } },
  });
  if (!payments.data) throw failure("list payments", payments.error, payments.response);
  checkEqual(
    payments.data.data.map((p) => p.id),
    [receipt.payment.id],
    "the invoice's payments",
  );
  step(`invoice ${paid.number} reads back paid (${paid.amount_paid} ${paid.currency}, paid_at ${paidAt})`);

  console.log("closed sale: 1 passed, 0 failed");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  console.log("closed sale: 0 passed, 1 failed");
  process.exitCode = 1;
});
