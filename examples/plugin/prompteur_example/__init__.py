"""An example prompteur plugin: the `loud` provider (models `loud:NAME` answer with the last
user message, upper-cased) and the `shouts` check. Declared in pyproject.toml as entry points;
prompteur finds them when the package is installed."""

from prompteur.models.providers import Provider

# The factory is a "module:function" string: the model's module loads only when a model of
# this provider is made.
LOUD = Provider(
    "loud",
    "prompteur_example.model:make",
    key_required=False,
    description="example plugin: answers with the last user message, upper-cased",
)
