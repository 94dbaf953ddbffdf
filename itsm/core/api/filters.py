"""Filter backends every list of the API shares."""

from rest_framework import filters


class StableOrderingFilter(filters.OrderingFilter):
    """``?ordering=`` plus the primary key last, so pages never repeat or skip a row."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not {"pk", "-pk", "id", "-id"} & set(ordering):
            ordering.append("-pk")
        return ordering
