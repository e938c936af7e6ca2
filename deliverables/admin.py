from django.contrib import admin

from .models import ChecklistItemTemplate, Deliverable, DeliverableType


class ChecklistItemTemplateInline(admin.TabularInline):
    model = ChecklistItemTemplate
    extra = 1
    fields = ["position", "area", "text", "answer_kind", "required"]


class DeliverableTypeInline(admin.TabularInline):
    model = DeliverableType
    extra = 0
    fields = ["name", "slug", "default_due_offset_days", "position"]
    show_change_link = True


@admin.register(DeliverableType)
class DeliverableTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "default_due_offset_days", "position"]
    list_filter = ["role"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["role"]
    inlines = [ChecklistItemTemplateInline]


@admin.register(ChecklistItemTemplate)
class ChecklistItemTemplateAdmin(admin.ModelAdmin):
    list_display = ["text", "deliverable_type", "area", "answer_kind", "required", "position"]
    list_filter = ["deliverable_type", "answer_kind", "required", "area"]
    search_fields = ["text", "area"]
    list_select_related = ["deliverable_type"]


@admin.register(Deliverable)
class DeliverableAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "type", "owner", "status", "due_date"]
    list_filter = ["status", "type__role", "type", "project"]
    search_fields = ["title", "project__name", "owner__username"]
    date_hierarchy = "due_date"
    autocomplete_fields = ["project", "owner"]
    list_select_related = ["project", "type", "owner"]
