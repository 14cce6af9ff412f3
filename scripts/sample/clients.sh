#!/usr/bin/env bash
# Real clients (curl) talking to the sample API on 127.0.0.1:8080.
set -euo pipefail
B=http://127.0.0.1:8080
api=(-s -H "Host: api.sample.test")
# one keep-alive connection per curl call, several requests on it
curl "${api[@]}" -H "Authorization: Bearer sample-not-a-real-token" \
  "$B/api/v1/users/me" "$B/api/v1/users/17" "$B/api/v1/users/42" "$B/api/v1/users/8812" \
  "$B/api/v1/users/17/orders" "$B/api/v1/users/42/orders"
curl "${api[@]}" -H "X-API-Key: sample-key" \
  "$B/api/v1/orders/3f2c1a9e-5b7d-4e2a-9c1f-0a1b2c3d4e5f" \
  "$B/api/v1/orders/8d7e6f5a-4b3c-4d2e-8f1a-9b8c7d6e5f4a" \
  "$B/api/v1/orders/8d7e6f5a-4b3c-4d2e-8f1a-9b8c7d6e5f4a/items" \
  "$B/api/v1/products/SKU-000123" "$B/api/v1/products/SKU-004711" \
  "$B/api/v1/reports/daily/2026-11-30" "$B/api/v1/reports/daily/2026-12-01" \
  "$B/api/v1/search?q=secret+words&page=2"
curl "${api[@]}" -X POST -H "Content-Type: application/json" -H "Cookie: session=not-a-real-session" \
  --data '{"sku":"SKU-000123","qty":2}' "$B/api/v1/orders"
curl "${api[@]}" -X DELETE "$B/api/v1/orders/3f2c1a9e-5b7d-4e2a-9c1f-0a1b2c3d4e5f"
curl "${api[@]}" "$B/internal/debug/vars" "$B/healthz"
# a scanner knocking on a second virtual host: only 404s
curl -s -H "Host: shop.sample.test" -A "Mozilla/5.0 (scanner)" \
  "$B/.env" "$B/wp-login.php" "$B/.git/config" "$B/phpmyadmin/index.php"
