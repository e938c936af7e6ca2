"""The data migration seeds the guide's six roles and the deliverables they owe."""

from __future__ import annotations

import pytest
from django.utils import translation

from deliverables.models import AnswerKind, ChecklistItemTemplate, DeliverableType
from roles.models import Role

pytestmark = pytest.mark.django_db

SIX_ROLES = [
    "ml-product-manager",
    "engineering-manager",
    "data-scientist",
    "ml-engineer",
    "data-engineer",
    "devops-engineer",
]


def test_the_six_roles_are_seeded_in_order_and_required_by_default():
    roles = list(Role.objects.all())
    assert [r.slug for r in roles] == SIX_ROLES
    assert all(r.required_by_default and r.knowledge_and_skills and r.summary for r in roles)


@pytest.mark.parametrize(
    ("role_slug", "type_slugs"),
    [
        ("ml-product-manager", {"prd"}),
        (
            "engineering-manager",
            {"design-document", "project-plan", "performance-evaluation", "process-documentation"},
        ),
        ("data-scientist", {"analysis-report"}),
        ("ml-engineer", {"deployed-model"}),
        ("data-engineer", {"data-pipeline"}),
        ("devops-engineer", {"serving-automation"}),
    ],
)
def test_each_role_owes_its_deliverable_types(role_slug, type_slugs):
    proposed = DeliverableType.objects.filter(role__slug=role_slug, proposed=True)
    assert set(proposed.values_list("slug", flat=True)) == type_slugs


def test_the_free_form_other_type_is_never_proposed():
    """Added by hand only (deliverables:add); its own title says what it is."""
    other = DeliverableType.objects.get(slug="other")
    assert (other.proposed, other.checklist_items.count()) == (False, 0)


def test_every_type_has_a_checklist_with_required_items():
    proposed = DeliverableType.objects.filter(proposed=True)
    for deliverable_type in proposed.prefetch_related("checklist_items"):
        items = list(deliverable_type.checklist_items.all())
        assert len(items) >= 5, deliverable_type.slug
        assert any(item.required for item in items), deliverable_type.slug


def test_process_documentation_asks_written_questions_by_area():
    items = ChecklistItemTemplate.objects.filter(deliverable_type__slug="process-documentation")
    areas = set(items.values_list("area", flat=True))
    assert areas == {
        "Data",
        "Model",
        "Training",
        "Production and monitoring",
        "Pipelines",
        "SQL",
        "Infrastructure",
        "Communication",
    }
    required = items.filter(required=True)
    assert required.count() == 11  # the guide's core questions
    assert all(item.answer_kind == AnswerKind.TEXT for item in required)


def test_pipeline_checklist_covers_monitoring_alerting_and_provenance():
    texts = " ".join(
        ChecklistItemTemplate.objects.filter(deliverable_type__slug="data-pipeline").values_list(
            "text", flat=True
        )
    )
    for word in ("Monitoring", "Alerting", "Anonymisation", "provenance", "Schema"):
        assert word in texts


def test_seeded_catalogue_shows_in_japanese():
    data_scientist = Role.objects.get(slug="data-scientist")
    with translation.override("ja"):
        assert data_scientist.display_name != "Data scientist"
        assert data_scientist.display_knowledge_and_skills != data_scientist.knowledge_and_skills
    with translation.override("en"):
        assert data_scientist.display_name == "Data scientist"


# --- catalogue services: a version per role, and per type with its checklist


def test_a_role_saved_from_a_stale_version_is_refused():
    from django.core.exceptions import ValidationError

    from roles.services import role_update

    engineer = Role.objects.get(slug="ml-engineer")
    drawn, position = engineer.version, engineer.position
    role_update(role=engineer, version=drawn, summary="Ships models.")
    assert engineer.version == drawn + 1

    with pytest.raises(ValidationError) as refused:
        role_update(role=Role.objects.get(pk=engineer.pk), version=drawn, position=42)

    assert refused.value.code == "stale"
    fresh = Role.objects.get(pk=engineer.pk)
    assert (fresh.summary, fresh.position, fresh.version) == ("Ships models.", position, drawn + 1)


def test_a_type_and_its_checklist_share_one_version():
    from django.core.exceptions import ValidationError

    from deliverables.services import (
        checklist_template_add,
        checklist_template_remove,
        checklist_template_update,
        deliverable_type_update,
    )

    prd = DeliverableType.objects.get(slug="prd")
    drawn = prd.version
    item = checklist_template_add(deliverable_type=prd, version=drawn, text="Privacy review")
    assert DeliverableType.objects.get(pk=prd.pk).version == drawn + 1

    # A type form drawn before the new item is refused; so is an item form.
    with pytest.raises(ValidationError):
        deliverable_type_update(deliverable_type=prd, version=drawn, default_due_offset_days=9)
    with pytest.raises(ValidationError):
        checklist_template_update(template=item, version=drawn, text="Privacy and security")

    checklist_template_update(template=item, version=drawn + 1, text="Privacy and security")
    checklist_template_remove(template=item, version=drawn + 2)
    fresh = DeliverableType.objects.get(pk=prd.pk)
    assert (fresh.version, fresh.default_due_offset_days) == (
        drawn + 3,
        prd.default_due_offset_days,
    )
    assert not ChecklistItemTemplate.objects.filter(pk=item.pk).exists()


def test_catalogue_services_validate_what_they_save():
    from django.core.exceptions import ValidationError

    from deliverables.services import deliverable_type_create
    from roles.services import role_create

    with pytest.raises(ValidationError):
        role_create(name="Data steward", slug="ml-engineer")  # the slug is taken
    with pytest.raises(ValidationError):
        deliverable_type_create(
            name="Fairness report", slug="not a slug", role=Role.objects.get(slug="ml-engineer")
        )
    assert not Role.objects.filter(name="Data steward").exists()
    assert not DeliverableType.objects.filter(name="Fairness report").exists()
