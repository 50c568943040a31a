SELECT "id", "number", "status", "issued_at" FROM "reporting"."v_invoices" WHERE ("tenant_id" = $1 AND ("issued_at", "id") < ($2, $3)) ORDER BY "issued_at" DESC, "id" DESC LIMIT $4
