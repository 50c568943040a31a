SELECT `id`, `number`, `status`, `issued_at` FROM `reporting`.`v_invoices` WHERE (((`tenant_id` = ? OR ?) AND CAST(`tenant_id` AS BINARY) = ?)) ORDER BY `issued_at` DESC, `id` DESC LIMIT ?
