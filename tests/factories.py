from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from deliverables.models import Deliverable, DeliverableStatus, DeliverableType
from roles.models import Membership, Project, Role, RoleAssignment
from roles.permissions import ADMINS_GROUP, MANAGERS_GROUP

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)


def manager_user(**kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    return user


def admin_user(**kwargs):
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=ADMINS_GROUP))
    return user


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Project {n}")
    business_problem = "Predict something useful."

    @factory.post_generation
    def managers(self, create, extracted, **kwargs):
        if create and extracted:
            self.managers.set(extracted)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)


def role(slug: str) -> Role:
    return Role.objects.get(slug=slug)


def deliverable_type(slug: str) -> DeliverableType:
    return DeliverableType.objects.get(slug=slug)


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    membership = factory.SubFactory(MembershipFactory)
    role = factory.LazyFunction(lambda: role("ml-engineer"))
    allocation_percent = 50


class DeliverableFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deliverable

    project = factory.SubFactory(ProjectFactory)
    type = factory.LazyFunction(lambda: deliverable_type("deployed-model"))
    title = factory.Sequence(lambda n: f"Deliverable {n}")
    status = DeliverableStatus.NOT_STARTED


def dated_work(world, type_slug: str, prefix: str, count: int = 21) -> list[Deliverable]:
    """`count` deliverables of one type in `world`'s project, owned by its member,
    titled "<prefix> 00".., due a day apart from 2030-01-01 (through the service)."""
    import datetime

    from deliverables.services import deliverable_create

    start = datetime.date(2030, 1, 1)
    return [
        deliverable_create(
            project=world.project,
            type=deliverable_type(type_slug),
            title=f"{prefix} {n:02}",
            due_date=start + datetime.timedelta(days=n),
            owner=world.people["member"],
            actor=world.people["manager"],
        )
        for n in range(count)
    ]


def panel_of(page: str, heading_id: str) -> str:
    """The HTML of the page's <section> whose heading has `heading_id`."""
    panel = page[page.index(f'id="{heading_id}"') :]
    return panel[: panel.index("</section>")]
