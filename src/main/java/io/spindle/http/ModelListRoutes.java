package io.spindle.http;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.spindle.api.ApiException;
import io.spindle.api.ModelObject;
import io.spindle.upstream.ModelRoute;
import io.spindle.upstream.ModelRouter;
import java.util.List;

/**
 * {@code GET /v1/models} (the models routes name exactly; patterns cannot be listed) and {@code GET /v1/models/{model}}
 * (any model a run may use, a pattern's too). {@code owned_by} is the route's name.
 */
final class ModelListRoutes implements HttpService {

    private final ModelRouter models;

    ModelListRoutes(ModelRouter models) {
        this.models = models;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/models", this::list)
                .any("/models", Http::methodNotAllowed)
                // {+model}: model names may hold slashes (vLLM serves "meta-llama/Llama-3.1-8B-Instruct")
                .get("/models/{+model}", this::retrieve)
                .any("/models/{+model}", Http::methodNotAllowed);
    }

    private void list(ServerRequest req, ServerResponse res) {
        List<ModelObject> data = models.listed().entrySet().stream()
                .map(e -> model(e.getKey(), e.getValue())).toList();
        Http.send(req, res, ModelObject.Page.of(data));
    }

    private void retrieve(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("model");
        ModelRoute route = models.route(id).orElseThrow(() -> new ApiException(ApiException.Kind.NOT_FOUND,
                "The model '" + id + "' does not exist", "model", "model_not_found"));
        Http.send(req, res, model(id, route));
    }

    private ModelObject model(String id, ModelRoute route) {
        return ModelObject.of(id, models.created(), route.name());
    }
}
