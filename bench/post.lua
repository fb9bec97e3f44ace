-- wrk script: POST the JSON body in $WRK_BODY_FILE with Content-Type JSON.
--   WRK_BODY_FILE=examples/churn/sample.json wrk -s bench/post.lua URL/predict
-- Top-level code runs in every wrk thread before the request is formatted.
local path = os.getenv("WRK_BODY_FILE")
if not path or path == "" then
  error("post.lua: set WRK_BODY_FILE to the JSON body file")
end
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
