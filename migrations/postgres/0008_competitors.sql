-- Competitors, their products priced against ours, the competitors of each deal, and the
-- competitor a lost deal was lost to. Prices are money (minor units and an ISO 4217 currency).
-- `opportunities.lost_to_competitor_id` is added without a foreign key (SQLite cannot add a
-- composite foreign key to an existing table); closing a deal lost to a competitor also links
-- the competitor to the deal in `opportunity_competitors`, whose foreign key proves that the
-- competitor exists in the organisation. Mirrors migrations/sqlite/0008_competitors.sql (UUID,
-- TIMESTAMPTZ, BIGINT and JSONB here).

CREATE TABLE competitors (
    organization_id UUID NOT NULL,
    id UUID NOT NULL,
    name TEXT NOT NULL,
    website TEXT,
    strengths TEXT,
    weaknesses TEXT,
    notes TEXT,
    custom_fields JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    created_by UUID NOT NULL,
    version BIGINT NOT NULL,
    archived_at TIMESTAMPTZ,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id)
);
CREATE INDEX competitors_name ON competitors (organization_id, name, id);
CREATE INDEX competitors_created ON competitors (organization_id, created_at, id);

CREATE TABLE competitor_products (
    organization_id UUID NOT NULL,
    id UUID NOT NULL,
    competitor_id UUID NOT NULL,
    name TEXT NOT NULL,
    price BIGINT NOT NULL CHECK (price >= 0),
    currency TEXT NOT NULL,
    compared_product_id UUID,
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    created_by UUID NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (organization_id, id),
    FOREIGN KEY (organization_id, competitor_id) REFERENCES competitors (organization_id, id),
    FOREIGN KEY (organization_id, compared_product_id) REFERENCES products (organization_id, id),
    FOREIGN KEY (organization_id, created_by) REFERENCES users (organization_id, id)
);
CREATE INDEX competitor_products_name ON competitor_products (organization_id, competitor_id, name, id);
CREATE INDEX competitor_products_created ON competitor_products (organization_id, competitor_id, created_at, id);
CREATE INDEX competitor_products_compared ON competitor_products (organization_id, compared_product_id);

CREATE TABLE opportunity_competitors (
    organization_id UUID NOT NULL,
    opportunity_id UUID NOT NULL,
    competitor_id UUID NOT NULL,
    threat_level TEXT NOT NULL CHECK (threat_level IN ('low', 'medium', 'high')),
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, opportunity_id, competitor_id),
    FOREIGN KEY (organization_id, opportunity_id) REFERENCES opportunities (organization_id, id),
    FOREIGN KEY (organization_id, competitor_id) REFERENCES competitors (organization_id, id)
);
CREATE INDEX opportunity_competitors_competitor ON opportunity_competitors (organization_id, competitor_id, opportunity_id);

ALTER TABLE opportunities ADD COLUMN lost_to_competitor_id UUID;
CREATE INDEX opportunities_lost_to ON opportunities (organization_id, lost_to_competitor_id);
