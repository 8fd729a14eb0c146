-- Products carry custom_fields like every other resource. Mirrors
-- migrations/postgres/0010_product_custom_fields.sql.

ALTER TABLE products ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';
