-- Quotes, orders, invoices and payments: the closed sale. Mirrors
-- migrations/postgres/0009_quotes_orders_invoices.sql (BLOB ids, TEXT timestamps, dates and JSON here).
--
-- Documents are numbered per organisation and kind from document_counters, incremented in the
-- transaction that inserts the document, so numbers never repeat. A document's lines are a JSON
-- array owned by the document (read and written whole, versioned with it); its totals are
-- columns, in minor units of its one currency.

CREATE TABLE document_counters (
    organization_id BLOB NOT NULL REFERENCES organizations (id),
    kind TEXT NOT NULL CHECK (kind IN ('quote', 'order', 'invoice')),
    last_value INTEGER NOT NULL,
    PRIMARY KEY (organization_id, kind)
);

CREATE TABLE quotes (
    organization_id BLOB NOT NULL,
    id BLOB NOT NULL,
    number_seq INTEGER NOT NULL,
    number TEXT NOT NULL,
    opportunity_id BLOB NOT NULL,
    account_id BLOB,
    contact_id BLOB,
    owner_id BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'accepted', 'rejected')),
    valid_until TEXT,
    currency TEXT NOT NULL,
    line_items TEXT NOT NULL,
    subtotal INTEGER NOT NULL,
    discount_total INTEGER NOT NULL,
    tax_total INTEGER NOT NULL,
    total INTEGER NOT NULL,
    notes TEXT,
    custom_fields TEXT NOT NULL,
    sent_at TEXT,
    accepted_at TEXT,
    rejected_at TEXT,
    rejection_reason TEXT,
    -- No foreign key: orders reference quotes, and the order is written in the same transaction.
    order_id BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by BLOB NOT NULL,
    version INTEGER NOT NULL,
    archived_at TEXT,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, opportunity_id) REFERENCES opportunities (organization_id, id),
    FOREIGN KEY (organization_id, account_id) REFERENCES accounts (organization_id, id),
    FOREIGN KEY (organization_id, contact_id) REFERENCES contacts (organization_id, id),
    FOREIGN KEY (organization_id, owner_id) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id)
);
CREATE UNIQUE INDEX quotes_number_key ON quotes (organization_id, number_seq);
CREATE INDEX quotes_created ON quotes (organization_id, created_at, id);
CREATE INDEX quotes_updated ON quotes (organization_id, updated_at, id);
CREATE INDEX quotes_total ON quotes (organization_id, total, id);
CREATE INDEX quotes_opportunity ON quotes (organization_id, opportunity_id);
CREATE INDEX quotes_status ON quotes (organization_id, status, valid_until);

CREATE TABLE orders (
    organization_id BLOB NOT NULL,
    id BLOB NOT NULL,
    number_seq INTEGER NOT NULL,
    number TEXT NOT NULL,
    account_id BLOB,
    contact_id BLOB,
    opportunity_id BLOB,
    quote_id BLOB,
    owner_id BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'fulfilled', 'delivered', 'cancelled')),
    currency TEXT NOT NULL,
    line_items TEXT NOT NULL,
    subtotal INTEGER NOT NULL,
    discount_total INTEGER NOT NULL,
    tax_total INTEGER NOT NULL,
    total INTEGER NOT NULL,
    shipping_address TEXT,
    notes TEXT,
    custom_fields TEXT NOT NULL,
    confirmed_at TEXT,
    fulfilled_at TEXT,
    delivered_at TEXT,
    cancelled_at TEXT,
    cancellation_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by BLOB NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (organization_id, id),
    CHECK (account_id IS NOT NULL OR contact_id IS NOT NULL),
    FOREIGN KEY (organization_id, quote_id) REFERENCES quotes (organization_id, id),
    FOREIGN KEY (organization_id, opportunity_id) REFERENCES opportunities (organization_id, id),
    FOREIGN KEY (organization_id, account_id) REFERENCES accounts (organization_id, id),
    FOREIGN KEY (organization_id, contact_id) REFERENCES contacts (organization_id, id),
    FOREIGN KEY (organization_id, owner_id) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id)
);
CREATE UNIQUE INDEX orders_number_key ON orders (organization_id, number_seq);
CREATE UNIQUE INDEX orders_quote_key ON orders (organization_id, quote_id);
CREATE INDEX orders_created ON orders (organization_id, created_at, id);
CREATE INDEX orders_updated ON orders (organization_id, updated_at, id);
CREATE INDEX orders_total ON orders (organization_id, total, id);
CREATE INDEX orders_account ON orders (organization_id, account_id);
CREATE INDEX orders_opportunity ON orders (organization_id, opportunity_id);
CREATE INDEX orders_status ON orders (organization_id, status);

CREATE TABLE invoices (
    organization_id BLOB NOT NULL,
    id BLOB NOT NULL,
    number_seq INTEGER NOT NULL,
    number TEXT NOT NULL,
    order_id BLOB,
    account_id BLOB,
    contact_id BLOB,
    opportunity_id BLOB,
    owner_id BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'issued', 'paid', 'void')),
    currency TEXT NOT NULL,
    line_items TEXT NOT NULL,
    subtotal INTEGER NOT NULL,
    discount_total INTEGER NOT NULL,
    tax_total INTEGER NOT NULL,
    total INTEGER NOT NULL,
    issue_date TEXT,
    due_date TEXT,
    amount_paid INTEGER NOT NULL CHECK (amount_paid >= 0 AND amount_paid <= total),
    paid_at TEXT,
    voided_at TEXT,
    void_reason TEXT,
    notes TEXT,
    custom_fields TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by BLOB NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (organization_id, id),
    CHECK (account_id IS NOT NULL OR contact_id IS NOT NULL),
    FOREIGN KEY (organization_id, order_id) REFERENCES orders (organization_id, id),
    FOREIGN KEY (organization_id, opportunity_id) REFERENCES opportunities (organization_id, id),
    FOREIGN KEY (organization_id, account_id) REFERENCES accounts (organization_id, id),
    FOREIGN KEY (organization_id, contact_id) REFERENCES contacts (organization_id, id),
    FOREIGN KEY (organization_id, owner_id) REFERENCES users (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id)
);
CREATE UNIQUE INDEX invoices_number_key ON invoices (organization_id, number_seq);
-- An order has at most one invoice that is not void.
CREATE UNIQUE INDEX invoices_order_key ON invoices (organization_id, order_id) WHERE order_id IS NOT NULL AND status <> 'void';
CREATE INDEX invoices_created ON invoices (organization_id, created_at, id);
CREATE INDEX invoices_updated ON invoices (organization_id, updated_at, id);
CREATE INDEX invoices_total ON invoices (organization_id, total, id);
CREATE INDEX invoices_account ON invoices (organization_id, account_id);
CREATE INDEX invoices_status ON invoices (organization_id, status, due_date);

CREATE TABLE payments (
    organization_id BLOB NOT NULL,
    id BLOB NOT NULL,
    invoice_id BLOB NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    paid_at TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('bank_transfer', 'card', 'cash', 'check', 'direct_debit', 'other')),
    reference TEXT,
    created_at TEXT NOT NULL,
    created_by BLOB NOT NULL,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, invoice_id) REFERENCES invoices (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id)
);
CREATE INDEX payments_invoice ON payments (organization_id, invoice_id, paid_at, id);
