"""The API's own docs page: the OpenAPI document in Swagger UI, served by the hub itself."""
