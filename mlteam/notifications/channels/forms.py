"""Chat channel forms: validation and layout only (the services decide the rest)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from deliverables.forms import WorkingDaysField
from mlteam.forms import DateField, TimeZoneField, VersionField

from .models import LANGUAGE_CHOICES, MAX_DUE_SOON_DAYS, ChatEvent, ChatPlatform

URL_HELP = _(
    "Slack: an incoming webhook (api.slack.com/apps → Incoming Webhooks). Mattermost: "
    "Integrations → Incoming Webhooks. Microsoft Teams: the channel's Workflows → “Post to "
    "a channel when a webhook request is received”. Kept secret: only its end is shown later."
)
URL_KEEP_HELP = _("Leave empty to keep the saved address (%(hint)s).")


class ChannelForm(forms.Form):
    version = VersionField(required=False)
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("How you recognise it here, e.g. #ml-team."),
    )
    platform = forms.ChoiceField(
        label=_("Platform"),
        choices=ChatPlatform.choices,
        initial=ChatPlatform.SLACK,
        widget=forms.RadioSelect,
    )
    url = forms.URLField(
        label=_("Webhook address"),
        max_length=2000,
        assume_scheme="https",
        help_text=URL_HELP,
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        label=_("Tell the channel at once when"),
        choices=ChatEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    daily_summary = forms.BooleanField(
        label=_("Send a daily summary"),
        required=False,
        initial=True,
        help_text=_("Overdue and due-soon work by role, unfilled roles and escalations."),
    )
    hour = forms.TypedChoiceField(
        label=_("Summary at"),
        coerce=int,
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        initial=9,
    )
    time_zone = TimeZoneField(label=_("Time zone"))
    working_days = WorkingDaysField(help_text=_("Summaries come on these days only."))
    paused_until = DateField(
        label=_("Pause summaries until"),
        required=False,
        help_text=_("No summary up to and including this day. Leave empty to receive them."),
    )
    due_soon_days = forms.IntegerField(
        label=_("Due soon means within (days)"),
        min_value=1,
        max_value=MAX_DUE_SOON_DAYS,
        initial=3,
    )
    language = forms.ChoiceField(label=_("Language of the messages"), choices=LANGUAGE_CHOICES)

    def __init__(self, *args, channel=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        if channel is not None:
            # The saved address is never drawn again: empty keeps it.
            self.fields["url"].required = False
            self.fields["url"].help_text = URL_KEEP_HELP % {"hint": channel.url_hint}

    def service_fields(self) -> dict:
        """The cleaned values as the services take them (CHANNEL_FIELDS, and `url`)."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data
