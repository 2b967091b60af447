-- wrk script for figure 2: every request is the same small JSON POST.
wrk.method = "POST"
wrk.body = '{"name":"widget","kind":"document","quantity":3}'
wrk.headers["Content-Type"] = "application/json"
