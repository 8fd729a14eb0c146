-- Products: the price book. A SKU is unique in the organisation, archived products included;
-- the tax rate is kept in hundredths of a percent (5.5% is 550). Mirrors
-- migrations/sqlite/0007_products.sql (UUID, TIMESTAMPTZ and BIGINT here).

CREATE TABLE products (
    organization_id UUID NOT NULL,
    id UUID NOT NULL,
    name TEXT NOT NULL,
    sku TEXT NOT NULL,
    description TEXT,
    unit_price BIGINT NOT NULL CHECK (unit_price >= 0),
    currency TEXT NOT NULL,
    tax_rate BIGINT NOT NULL CHECK (tax_rate BETWEEN 0 AND 10000),
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    created_by UUID NOT NULL,
    version BIGINT NOT NULL,
    archived_at TIMESTAMPTZ,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id)
);
CREATE UNIQUE INDEX products_sku_key ON products (organization_id, sku);
CREATE INDEX products_name ON products (organization_id, name, id);
CREATE INDEX products_created ON products (organization_id, created_at, id);
