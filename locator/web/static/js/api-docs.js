/* locator — /api/v1/docs: Swagger UI (served by the app from the npm package swagger-ui-dist) reads
   the API's OpenAPI description. No call leaves the site: no validator badge, no remote config, and
   « Try it out » sends GET requests to this API only. */
(function () {
  "use strict";

  var box = document.getElementById("api-docs");
  if (!box || typeof window.SwaggerUIBundle !== "function") { return; }
  window.SwaggerUIBundle({
    url: box.getAttribute("data-openapi"),
    domNode: box,
    validatorUrl: null,
    configUrl: null,
    queryConfigEnabled: false,
    deepLinking: false,
    supportedSubmitMethods: ["get"],
    defaultModelsExpandDepth: 0,
    onComplete: function () { box.setAttribute("data-pret", "1"); }
  });
})();
