"""Admins edit card templates (a template, its sections and guiding questions) in
the Django admin, and read the cards' answers and links."""

from django.db import migrations

from mlteam.migration_ops import AdminsGrant

GRANTS = {
    "cardtemplate": ["add", "change", "delete", "view"],
    "cardsection": ["add", "change", "delete", "view"],
    "cardquestion": ["add", "change", "delete", "view"],
    "cardanswer": ["view"],
    "cardlink": ["view"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("cards", "0002_seed_model_card_and_datasheet"),
        ("roles", "0002_groups"),
    ]

    operations = [
        AdminsGrant(
            {"cards": [f"{action}_{model}" for model, actions in GRANTS.items() for action in actions]}
        )
    ]
