// @ts-check
// Settings of the sample pages, loaded by every page before its module (js/pages/).
//
// apiBaseUrl: where the LambdAuth HTTP API answers. Leave it empty when the pages and the API
// share one origin, as they do under the local dev server (http://127.0.0.1:3000). For a deployed
// stack, set it to the API Gateway URL, e.g. "https://abc123.execute-api.eu-west-1.amazonaws.com"
// (no trailing slash needed), and allow this page's origin in the API's CORS settings.
//
// The line below sets window.LAMBDAUTH_CONFIG in a form that // @ts-check accepts;
// `window.LAMBDAUTH_CONFIG = { apiBaseUrl: "…" };` works the same.
Object.assign(window, { LAMBDAUTH_CONFIG: { apiBaseUrl: "" } });
