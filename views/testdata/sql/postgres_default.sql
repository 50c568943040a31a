SELECT "id", "number", "status", "issued_at" FROM "reporting"."v_invoices" WHERE ("tenant_id" = $1) ORDER BY "issued_at" DESC, "id" DESC LIMIT $2
