"""Seed two deliverable types and their card templates: a model card (after
Mitchell et al., 2019) owned by the ML engineer and describing the deployed model,
and a datasheet for a data set (after Gebru et al., 2018) owned by the data
engineer and describing the data pipeline.

Both are added to a project by hand (not proposed by the plan). Reversed, the
templates go and the types stay. Texts are English
source strings marked with gettext_noop so they are in the translation catalogue;
models show them through gettext. Admins edit all of this in the admin afterwards.
"""

from django.db import migrations
from django.db.models import Max
from django.utils.translation import gettext_noop as _

MODEL_CARD_SECTIONS = [
    (_("Intended use"), _("What the model is for, and who should rely on it."), [
        _("What task does the model perform, and what decision or product does it feed?"),
        _("Who are the intended users, and who is affected by its outputs?"),
        _("Under what conditions (data, traffic, region) is it meant to run?"),
    ]),
    (_("Out-of-scope use"), _("Uses the model was not built or checked for."), [
        _("Which uses should people avoid, and why?"),
        _("What happens if it is applied outside those limits?"),
    ]),
    (_("Factors"), _("The groups, settings and conditions that can change how well it works."), [
        _("Which groups of people or kinds of input could see different quality?"),
        _("Which environmental or technical conditions (devices, seasons, data sources) matter?"),
        _("Which of these factors were actually examined in the evaluation?"),
    ]),
    (_("Metrics"), _("How quality is measured, and why those measures."), [
        _("Which metrics are reported, and why were they chosen?"),
        _("Which decision thresholds are used, and how were they set?"),
        _("How is uncertainty in the figures estimated (intervals, repeated runs)?"),
    ]),
    (_("Evaluation data"), _("The data the reported results come from."), [
        _("Which data sets were used for evaluation, and why?"),
        _("How were they prepared, and how do they differ from production traffic?"),
    ]),
    (_("Training data"), _("What the model learned from, as far as it can be shared."), [
        _("Where does the training data come from, and which period does it cover?"),
        _("How was it labelled, filtered or sampled?"),
        _("Which datasheet or data pipeline describes it further?"),
    ]),
    (_("Quantitative analyses"), _("The results, overall and broken down."), [
        _("What are the overall results against the agreed target and a simple baseline?"),
        _("What are the results for each factor above, and where do they differ?"),
    ]),
    (_("Ethical considerations"), _("Risks to people, and what was done about them."), [
        _("Does the model use personal or sensitive data, and how is it protected?"),
        _("What harms could its mistakes cause, and to whom?"),
        _("Which mitigations are in place, and which risks remain?"),
    ]),
    (_("Caveats and recommendations"), _("What a reader should keep in mind."), [
        _("What known limitations or open questions remain?"),
        _("What should users or maintainers do next (further tests, monitoring, retraining)?"),
    ]),
]

DATASHEET_SECTIONS = [
    (_("Motivation"), _("Why the data set exists."), [
        _("For what purpose was the data set created, and which gap does it fill?"),
        _("Who created it, on whose behalf, and who paid for it?"),
    ]),
    (_("Composition"), _("What the data set contains."), [
        _("What does each record represent, and how many records are there?"),
        _("Is it a sample of a larger set? If so, how was the sample drawn?"),
        _("Does it hold personal, confidential or sensitive information?"),
        _("Are there known errors, gaps or duplicates?"),
    ]),
    (_("Collection"), _("How the data was gathered."), [
        _("How was the data collected, over what period, and by whom?"),
        _("Were the people it describes told, and did they agree? How?"),
    ]),
    (_("Preprocessing"), _("What was done to the raw data before use."), [
        _("What cleaning, labelling or transformation was applied?"),
        _("Is the raw data kept, and where?"),
    ]),
    (_("Uses"), _("What the data set has been and should be used for."), [
        _("What has it been used for so far?"),
        _("Which uses should be avoided, and why?"),
    ]),
    (_("Distribution"), _("Who gets the data set, and on what terms."), [
        _("Who may access it, and how is access granted?"),
        _("Under which licence or terms of use is it shared?"),
    ]),
    (_("Maintenance"), _("How the data set is looked after over time."), [
        _("Who maintains it, and how can they be reached?"),
        _("How often is it updated, and how are users told about changes?"),
        _("How long is it kept, and how is it retired?"),
    ]),
]

TYPES = [
    {
        "slug": "model-card",
        "role": "ml-engineer",
        "name": _("Model card"),
        "description": _(
            "A short document that says what a deployed model is for, how it was evaluated, "
            "for whom it works less well, and what to watch out for."
        ),
        "offset": 90,
        "kind": "model_card",
        "template": _("Model card"),
        "template_description": _(
            "Sections after Mitchell et al., 2019, \"Model Cards for Model Reporting\". Answer "
            "each guiding question in Markdown; link the card to the deployed model it "
            "describes."
        ),
        "subject": "deployed-model",
        "sections": MODEL_CARD_SECTIONS,
    },
    {
        "slug": "datasheet",
        "role": "data-engineer",
        "name": _("Datasheet"),
        "description": _(
            "A document that records why a data set was made, what is in it, how it was "
            "gathered and processed, and how it is shared and maintained."
        ),
        "offset": 60,
        "kind": "datasheet",
        "template": _("Datasheet for a data set"),
        "template_description": _(
            "Sections after Gebru et al., 2018, \"Datasheets for Datasets\". Answer each guiding "
            "question in Markdown; link the datasheet to the data pipeline that produces the "
            "data."
        ),
        "subject": "data-pipeline",
        "sections": DATASHEET_SECTIONS,
    },
]


def seed(apps, schema_editor):
    Role = apps.get_model("roles", "Role")
    DeliverableType = apps.get_model("deliverables", "DeliverableType")
    CardTemplate = apps.get_model("cards", "CardTemplate")
    CardSection = apps.get_model("cards", "CardSection")
    CardQuestion = apps.get_model("cards", "CardQuestion")
    position = DeliverableType.objects.aggregate(top=Max("position"))["top"] or 0
    for data in TYPES:
        role = Role.objects.filter(slug=data["role"]).first()
        if role is None:
            continue
        deliverable_type = DeliverableType.objects.filter(slug=data["slug"]).first()
        if deliverable_type is None:
            position += 1
            deliverable_type = DeliverableType.objects.create(
                slug=data["slug"],
                name=data["name"],
                role=role,
                description=data["description"],
                default_due_offset_days=data["offset"],
                position=position,
                proposed=False,
            )
        if CardTemplate.objects.filter(deliverable_type=deliverable_type).exists():
            continue
        template = CardTemplate.objects.create(
            deliverable_type=deliverable_type,
            kind=data["kind"],
            name=data["template"],
            description=data["template_description"],
            subject_type=DeliverableType.objects.filter(slug=data["subject"]).first(),
        )
        for n, (title, guidance, questions) in enumerate(data["sections"]):
            section = CardSection.objects.create(
                template=template, title=title, guidance=guidance, position=n
            )
            CardQuestion.objects.bulk_create(
                CardQuestion(section=section, text=text, position=q) for q, text in enumerate(questions)
            )


def unseed(apps, schema_editor):
    """The templates go with this app's tables; the two types stay in the catalogue
    (deliverables may have been planned with them), and seeding again reuses them."""
    CardTemplate = apps.get_model("cards", "CardTemplate")
    CardTemplate.objects.filter(deliverable_type__slug__in=[data["slug"] for data in TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cards", "0001_card_templates_answers_links"),
        ("deliverables", "0033_card_event_kinds"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
