-- Products: the price book. A SKU is unique in the organisation, archived products included;
-- the tax rate is kept in hundredths of a percent (5.5% is 550). Mirrors
-- migrations/postgres/0007_products.sql.

CREATE TABLE products (
    organization_id BLOB NOT NULL,
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    sku TEXT NOT NULL,
    description TEXT,
    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
    currency TEXT NOT NULL,
    tax_rate INTEGER NOT NULL CHECK (tax_rate BETWEEN 0 AND 10000),
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by BLOB NOT NULL,
    version INTEGER NOT NULL,
    archived_at TEXT,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id)
);
CREATE UNIQUE INDEX products_sku_key ON products (organization_id, sku);
CREATE INDEX products_name ON products (organization_id, name, id);
CREATE INDEX products_created ON products (organization_id, created_at, id);
