-- wrk script for figure 10: figure 2's JSON POST from a browser origin, so CORS applies.
wrk.method = "POST"
wrk.body = '{"name":"widget","kind":"document","quantity":3}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "https://app.example.com"
wrk.headers["Accept-Encoding"] = "gzip"
