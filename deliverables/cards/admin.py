"""Admins edit card templates here: a template (per deliverable type: its kind and
what its cards describe) with its sections inline; a section with its guiding
questions inline. Every save goes through the services, which move the template's
version and drop cached pages. Answers and links are read here, never edited."""

from __future__ import annotations

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mlteam.admin import ServiceAdmin, changed_fields, form_fields

from . import services
from .models import (
    CardAnswer,
    CardLink,
    CardQuestion,
    CardSection,
    CardTemplate,
    prompt_keys,
    section_completeness,
)


class SectionFormSet(BaseInlineFormSet):
    """A template's sections, each change claiming the template's version."""

    def _fields(self, form) -> dict:
        return form_fields(form, services.SECTION_FIELDS)

    def save_new(self, form, commit=True):
        return services.card_section_add(
            template=self.instance, version=self.instance.version, **self._fields(form)
        )

    def save_existing(self, form, obj, commit=True):
        obj.template = self.instance
        return services.card_section_update(
            section=obj, version=self.instance.version, **self._fields(form)
        )

    def delete_existing(self, obj, commit=True):
        obj.template = self.instance
        services.card_section_remove(section=obj, version=self.instance.version)


class CardSectionInline(admin.StackedInline):
    model = CardSection
    formset = SectionFormSet
    extra = 1
    fields = ["position", "title", "guidance"]
    show_change_link = True  # its guiding questions are edited on the section's page


@admin.register(CardTemplate)
class CardTemplateAdmin(ServiceAdmin):
    list_display = ["name", "kind", "deliverable_type", "subject_type"]
    list_select_related = ["deliverable_type", "subject_type"]
    search_fields = ["name", "deliverable_type__name"]
    inlines = [CardSectionInline]

    def create(self, request, form) -> CardTemplate:
        return services.card_template_create(**form_fields(form, services.TEMPLATE_FIELDS))

    def update(self, request, form, template: CardTemplate) -> CardTemplate:
        changes = changed_fields(form, services.TEMPLATE_FIELDS)
        if not changes:
            return template
        return services.card_template_update(
            template=template, version=form.cleaned_data["version"], **changes
        )

    def deleted(self) -> None:
        services.catalogue_changed()


class QuestionFormSet(BaseInlineFormSet):
    """A section's guiding questions, each change claiming its template's version."""

    def _fields(self, form) -> dict:
        return form_fields(form, services.QUESTION_FIELDS)

    def save_new(self, form, commit=True):
        template = self.instance.template
        return services.card_question_add(
            section=self.instance, version=template.version, **self._fields(form)
        )

    def save_existing(self, form, obj, commit=True):
        obj.section = self.instance
        return services.card_question_update(
            question=obj, version=self.instance.template.version, **self._fields(form)
        )

    def delete_existing(self, obj, commit=True):
        obj.section = self.instance
        services.card_question_remove(question=obj, version=self.instance.template.version)


class CardQuestionInline(admin.TabularInline):
    model = CardQuestion
    formset = QuestionFormSet
    extra = 1
    fields = ["position", "text"]


@admin.register(CardSection)
class CardSectionAdmin(ServiceAdmin):
    """One section of a card template, with its guiding questions: its form carries
    the template's version."""

    list_display = ["title", "template", "position"]
    list_filter = ["template"]
    list_select_related = ["template"]
    version_of = "template"
    inlines = [CardQuestionInline]

    def get_readonly_fields(self, request, obj=None):
        return ["template"] if obj is not None else []

    def create(self, request, form) -> CardSection:
        template = form.cleaned_data["template"]
        return services.card_section_add(
            template=template, version=None, **form_fields(form, services.SECTION_FIELDS)
        )

    def update(self, request, form, section: CardSection) -> CardSection:
        changes = changed_fields(form, services.SECTION_FIELDS)
        if not changes:
            return section
        return services.card_section_update(
            section=section, version=form.cleaned_data["version"], **changes
        )

    def deleted(self) -> None:
        services.catalogue_changed()


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CardAnswer)
class CardAnswerAdmin(ReadOnlyAdmin):
    """Answers are written on the card's page; here they are read only."""

    list_display = ["deliverable", "section", "completeness", "answered_by", "answered_at"]
    list_select_related = ["deliverable__type", "section", "answered_by"]
    readonly_fields = [
        "deliverable",
        "section",
        "completeness",
        "answers",
        "answered_by",
        "answered_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("section__questions")

    @admin.display(description=_("answered"))
    def completeness(self, row: CardAnswer) -> str:
        questions = sorted(row.section.questions.all(), key=lambda q: (q.position, q.pk))
        done = section_completeness(
            row.section.title, prompt_keys([q.pk for q in questions]), row.answers
        )
        return gettext("%(answered)s of %(prompts)s") % {
            "answered": done.answered,
            "prompts": done.prompts,
        }


@admin.register(CardLink)
class CardLinkAdmin(ReadOnlyAdmin):
    list_display = ["card", "subject", "needs_review", "flagged_at"]
    list_select_related = ["card__type", "subject__type"]
    list_filter = ["needs_review"]
    readonly_fields = [
        "card",
        "subject",
        "needs_review",
        "review_reason",
        "review_change",
        "flagged_at",
        "reviewed_by",
        "reviewed_at",
    ]
