"""Template helpers of the type-ahead pickers (``itsm.core.pickers``)."""

from django import forms, template

register = template.Library()


@register.filter
def picks_rows(bound_field) -> bool:
    """Whether a form field chooses rows of a table (a model choice): a page without the
    pickers' script (the browsable API) shows it as an id input, never as every row."""
    return isinstance(getattr(bound_field, "field", None), forms.ModelChoiceField)
