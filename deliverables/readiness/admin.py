"""Admins edit rubrics here: a rubric (per deliverable type, with the score done
needs) and its sections inline; a section and its items inline. Every save goes
through the services, which move the rubric's version and drop cached scores."""

from __future__ import annotations

from django.contrib import admin
from django.forms.models import BaseInlineFormSet

from mlteam.admin import ServiceAdmin, changed_fields, form_fields

from . import services
from .models import Rubric, RubricItem, RubricSection, RubricWaiver


class SectionFormSet(BaseInlineFormSet):
    """A rubric's sections, each change claiming the rubric's version."""

    def _fields(self, form) -> dict:
        return form_fields(form, services.SECTION_FIELDS)

    def save_new(self, form, commit=True):
        return services.rubric_section_add(
            rubric=self.instance, version=self.instance.version, **self._fields(form)
        )

    def save_existing(self, form, obj, commit=True):
        obj.rubric = self.instance
        return services.rubric_section_update(
            section=obj, version=self.instance.version, **self._fields(form)
        )

    def delete_existing(self, obj, commit=True):
        obj.rubric = self.instance
        services.rubric_section_remove(section=obj, version=self.instance.version)


class RubricSectionInline(admin.TabularInline):
    model = RubricSection
    formset = SectionFormSet
    extra = 1
    fields = ["position", "name"]
    show_change_link = True  # its items are edited on the section's page


@admin.register(Rubric)
class RubricAdmin(ServiceAdmin):
    list_display = ["name", "deliverable_type", "required_score"]
    list_select_related = ["deliverable_type"]
    search_fields = ["name", "deliverable_type__name"]
    inlines = [RubricSectionInline]

    def create(self, request, form) -> Rubric:
        return services.rubric_create(**form_fields(form, services.RUBRIC_FIELDS))

    def update(self, request, form, rubric: Rubric) -> Rubric:
        changes = changed_fields(form, services.RUBRIC_FIELDS)
        if not changes:
            return rubric
        return services.rubric_update(
            rubric=rubric, version=form.cleaned_data["version"], **changes
        )

    def deleted(self) -> None:
        services._changed()


class ItemFormSet(BaseInlineFormSet):
    """A section's items, each change claiming its rubric's version."""

    def _fields(self, form) -> dict:
        fields = form_fields(form, services.ITEM_FIELDS)
        fields["section"] = self.instance
        return fields

    def save_new(self, form, commit=True):
        rubric = self.instance.rubric
        return services.rubric_item_add(rubric=rubric, version=rubric.version, **self._fields(form))

    def save_existing(self, form, obj, commit=True):
        obj.section = self.instance
        return services.rubric_item_update(
            item=obj, version=self.instance.rubric.version, **self._fields(form)
        )

    def delete_existing(self, obj, commit=True):
        obj.section = self.instance
        services.rubric_item_remove(item=obj, version=self.instance.rubric.version)


class RubricItemInline(admin.TabularInline):
    model = RubricItem
    formset = ItemFormSet
    extra = 1
    fields = ["position", "text", "guidance"]


@admin.register(RubricSection)
class RubricSectionAdmin(ServiceAdmin):
    """One section of a rubric, with its items: its form carries the rubric's version."""

    list_display = ["name", "rubric", "position"]
    list_filter = ["rubric"]
    list_select_related = ["rubric"]
    version_of = "rubric"
    inlines = [RubricItemInline]

    def get_readonly_fields(self, request, obj=None):
        return ["rubric"] if obj is not None else []

    def create(self, request, form) -> RubricSection:
        rubric = form.cleaned_data["rubric"]
        return services.rubric_section_add(
            rubric=rubric, version=None, **form_fields(form, services.SECTION_FIELDS)
        )

    def update(self, request, form, section: RubricSection) -> RubricSection:
        changes = changed_fields(form, services.SECTION_FIELDS)
        if not changes:
            return section
        return services.rubric_section_update(
            section=section, version=form.cleaned_data["version"], **changes
        )

    def deleted(self) -> None:
        services._changed()


@admin.register(RubricWaiver)
class RubricWaiverAdmin(admin.ModelAdmin):
    """Waivers are recorded by the done move; here they are read only."""

    list_display = ["deliverable", "score", "required_score", "waived_by", "created_at"]
    list_select_related = ["deliverable__type", "waived_by"]
    readonly_fields = [
        "deliverable",
        "reason",
        "score",
        "required_score",
        "missing",
        "waived_by",
        "created_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
