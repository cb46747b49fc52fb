/* Chợ 4.0 — the API docs page (/api/v1/docs/, config.api_docs): starts Swagger UI.
 *
 * drf-spectacular's swagger_ui.js (0.30), made a static file so that the page
 * runs no inline script (the Content-Security-Policy refuses one). Its
 * settings come from the JSON data block #swagger-ui-config written by the
 * view: the schema's URL, SWAGGER_UI_SETTINGS, the OAuth2 settings, the
 * authentication schemes whose credentials go with the schema request, and
 * the CSRF header and token for the session-authenticated calls.
 * Credentials entered in "Authorize" are also sent when the schema is
 * fetched again (it lists what the caller may see); if that request fails
 * they are left out until the next change.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("swagger-ui-config").textContent);
  var schemaAuthNames = config.schemaAuthNames || [];
  var schemaAuthFailed = false;
  var ui = null;
  var plugins = [];

  function reloadSchema(ori) {
    return function () {
      schemaAuthFailed = false;
      setTimeout(function () { ui.specActions.download(); });
      return ori.apply(null, arguments);
    };
  }

  if (schemaAuthNames.length > 0) {
    plugins.push(function () {
      return {
        statePlugins: {
          auth: { wrapActions: { authorizeOauth2: reloadSchema, authorize: reloadSchema, logout: reloadSchema } },
        },
      };
    });
  }

  function isSchemaUrl(url) {
    return ui !== null && url === new URL(ui.getConfigs().url, document.baseURI).href;
  }

  function responseInterceptor(response) {
    if (!response.ok && isSchemaUrl(response.url)) {
      console.warn("schema request received '" + response.status + "'. disabling credentials for schema till logout.");
      if (!schemaAuthFailed) {
        schemaAuthFailed = true; // retry once only, never in a loop
        setTimeout(function () { ui.specActions.download(); });
      }
    }
    return response;
  }

  function injectAuthCredentials(request) {
    var authorized;
    if (ui !== null) {
      var state = ui.getState().get("auth").get("authorized");
      if (state !== undefined && Object.keys(state.toJS()).length !== 0) authorized = state.toJS();
    } else if ([undefined, "{}"].indexOf(localStorage.authorized) === -1) {
      authorized = JSON.parse(localStorage.authorized);
    }
    if (authorized === undefined) return;
    for (var i = 0; i < schemaAuthNames.length; i++) {
      var authDef = authorized[schemaAuthNames[i]];
      if (authDef === undefined || authDef.schema === undefined) continue;
      var schema = authDef.schema;
      if (schema.type === "http" && schema.scheme === "bearer") {
        request.headers.Authorization = "Bearer " + authDef.value;
        return;
      } else if (schema.type === "http" && schema.scheme === "basic") {
        request.headers.Authorization = "Basic " + btoa(authDef.value.username + ":" + authDef.value.password);
        return;
      } else if (schema.type === "apiKey" && schema.in === "header") {
        request.headers[schema.name] = authDef.value;
        return;
      } else if (schema.type === "oauth2" && authDef.token.token_type === "Bearer") {
        request.headers.Authorization = "Bearer " + authDef.token.access_token;
        return;
      }
    }
  }

  function requestInterceptor(request) {
    if (request.loadSpec && schemaAuthNames.length > 0 && !schemaAuthFailed) {
      try {
        injectAuthCredentials(request);
      } catch (e) {
        console.error("schema auth injection failed with error: ", e);
      }
    }
    // Only where the session cookie goes along (same origin), and not on reads.
    if (["GET", undefined].indexOf(request.method) === -1 && request.credentials === "same-origin") {
      request.headers[config.csrfHeaderName] = config.csrfToken;
    }
    return request;
  }

  ui = SwaggerUIBundle(Object.assign({
    url: config.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    plugins: plugins,
    layout: "BaseLayout",
    requestInterceptor: requestInterceptor,
    responseInterceptor: responseInterceptor,
  }, config.settings || {}));

  if (config.oauth2Config) ui.initOAuth(config.oauth2Config);
})();
