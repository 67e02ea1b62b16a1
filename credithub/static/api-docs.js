// Starts Swagger UI on /api/v1/docs: a file of its own, as the pages' policy runs no inline
// script. The OpenAPI document's address comes from the page (data-spec).
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    validatorUrl: null, // the default asks swagger.io: no outside network
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
