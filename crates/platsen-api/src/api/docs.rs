//! The API documentation page: poem-openapi's Swagger UI (poem-openapi 5.1,
//! Swagger UI 5.17.14), with what it lacks for WCAG 2.2 AA added: a
//! language, contrast, accessible names, and no links nested in buttons.

/// Colours with at least 4.5:1 contrast, in place of Swagger UI's.
const DOCS_CSS: &str = r#"
.swagger-ui .info .title small { background: #595f6a; }
.swagger-ui .info .title small.version-stamp { background-color: #3b5e00; }
.swagger-ui .btn.authorize { border-color: #1a7f4b; color: #1a7f4b; }
.swagger-ui .btn.authorize svg { fill: #1a7f4b; }
.swagger-ui .btn.cancel { border-color: #c92a2a; color: #c92a2a; }
.swagger-ui .btn.execute { background-color: #1f69c0; border-color: #1f69c0; }
.swagger-ui .opblock.opblock-get .opblock-summary-method { background: #1f69c0; }
.swagger-ui .opblock.opblock-post .opblock-summary-method { background: #1a7f4b; }
.swagger-ui .opblock.opblock-put .opblock-summary-method { background: #a35a00; }
.swagger-ui .opblock.opblock-delete .opblock-summary-method { background: #c92a2a; }
.swagger-ui .opblock.opblock-patch .opblock-summary-method { background: #0c7a63; }
.swagger-ui .opblock.opblock-head .opblock-summary-method { background: #7b1fd6; }
.swagger-ui .opblock.opblock-deprecated { opacity: 1; }
.swagger-ui .opblock.opblock-deprecated .opblock-summary-method { background: #5b6270; }
.swagger-ui .parameter__in, .swagger-ui .parameter__extension { color: #595959; }
.swagger-ui .parameter__deprecated, .swagger-ui .parameter__name.required span { color: #c00000; }
.swagger-ui .response-col_status .response-undocumented,
.swagger-ui .response-col_links .response-undocumented { color: #595959; }
.swagger-ui .download-contents { background: #595f6a; }
.swagger-ui .info a, .swagger-ui .scopes h2 a { color: #1f69c0; }
.swagger-ui .info a:hover { color: #174f91; }
.swagger-ui .info a.link { display: inline-block; min-height: 24px; line-height: 24px; }
"#;

/// Accessible names Swagger UI leaves out, kept up as it re-renders.
const DOCS_JS: &str = r#"
(function () {
    const names = [
        ["select#servers", "Servers"],
        ["textarea.body-param__text", "Request body"],
        [".close-modal", "Close"],
        [".copy-to-clipboard button", "Copy to clipboard"],
    ];
    const fix = () => {
        for (const [css, name] of names) {
            document.querySelectorAll(css).forEach((e) => {
                if (!e.getAttribute("aria-label")) e.setAttribute("aria-label", name);
            });
        }
        // Names that leave out the visible text ("Authorize", "Logout").
        document
            .querySelectorAll('button[aria-label="Apply credentials"], button[aria-label="Remove authorization"], button[aria-label="Apply given OAuth2 credentials"]')
            .forEach((b) => b.removeAttribute("aria-label"));
    };
    new MutationObserver(fix).observe(document.getElementById("ui"), { childList: true, subtree: true });
    fix();
})();
"#;

/// poem-openapi's Swagger UI page (`OpenApiService::swagger_ui_html`) made
/// accessible: a language and a doctype, contrast, names for the servers
/// select and other controls, no links nested in the operations' buttons
/// (deep linking off) and a code theme with enough contrast.
pub(crate) fn accessible_swagger_ui(html: &str) -> String {
    let edits: [(&str, String); 4] = [
        ("<html charset=\"UTF-8\">", "<!DOCTYPE html>\n<html lang=\"en\">".into()),
        (
            "<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\">",
            "<meta charset=\"utf-8\">\n    <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                .into(),
        ),
        // Swagger UI's own stylesheet is the first; ours comes after it.
        ("</style>", format!("</style>\n    <style>{DOCS_CSS}</style>")),
        (
            "deepLinking: true,",
            "deepLinking: false,\n        syntaxHighlight: { activated: true, theme: \"tomorrow-night\" },".into(),
        ),
    ];
    let mut html = html.to_owned();
    for (from, to) in edits {
        assert!(html.contains(from), "poem-openapi's Swagger UI page no longer has {from}");
        html = html.replacen(from, &to, 1);
    }
    // The bundle inlined in <head> contains "</body>" too: the last is the page's.
    let end = html.rfind("</body>").expect("the Swagger UI page ends its body");
    html.insert_str(end, &format!("<script>{DOCS_JS}</script>\n"));
    html
}
