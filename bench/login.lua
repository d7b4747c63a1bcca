-- wrk script: POST /auth/login with the account the bench created.
-- The JSON summary printed at the end is shared by every scenario.
dofile("bench/json-summary.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@example.com","password":"bench password 123"}'
