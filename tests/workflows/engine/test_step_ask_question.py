"""Ask a Question (WF-STEP-ASK-01..09, WF-RUN-13): asking, validating, saving, timing out, failing."""

from __future__ import annotations

from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts import fields, tags
from convoflow.contacts import service as contacts
from convoflow.contacts.identities import link_identity
from convoflow.contacts.models import Contact
from convoflow.contacts.tags import contact_tag_names
from convoflow.conversations import service as conversations
from convoflow.conversations.content import LocationContent, TextContent
from convoflow.conversations.messages import Inbound, record_inbound
from convoflow.conversations.models import Message
from convoflow.errors import WorkflowInvalid
from convoflow.events.actor import Actor
from convoflow.testing.factories import make_channel, make_contact
from convoflow.workflows.definition.steps import AskQuestionConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.steps.answers import parse_answer
from convoflow.workflows.steps.ask_question import _question
from tests.support import events_of
from tests.workflows.engine.support import OPENED, Harness, definition, step

# --- WF-STEP-ASK-03: every question type's validation (pure) ---------------------------------

OPTIONS = ["Sí", "No sé", "Ventas"]
VALID: list[tuple[str, str, Any]] = [
    ("text", "  Hola  ", "Hola"),
    ("multiple_choice", "sí", "Sí"),
    ("multiple_choice", "  SI ", "Sí"),  # case, accents and outer spaces ignored
    ("multiple_choice", "no se", "No sé"),
    ("multiple_choice", "3", "Ventas"),  # or its number
    ("number", "42", 42),
    ("number", "-7", -7),
    ("number", "+3", 3),
    ("number", "3.5", 3.5),
    ("number", "3,5", 3.5),  # comma decimal
    ("number", " 10 ", 10),
    ("rating", "1", 1),
    ("rating", "5", 5),
    ("date", "2024-02-29", "2024-02-29"),
    ("date", "31/12/2024", "2024-12-31"),  # the workspace format (DD/MM/YYYY), stored ISO
    ("phone", "+34 612 34 56 78", "+34612345678"),
    ("phone", "612 34 56 78", "+34612345678"),  # national, with the country given
    ("email", " Ana@Example.COM ", "ana@example.com"),
    ("url", "https://example.com/precios", "https://example.com/precios"),
    ("url", "example.com", "https://example.com"),  # scheme added when missing
    ("url", "HTTP://example.com", "HTTP://example.com"),
    ("location", "(3.1545313, 101.7151839)", "3.1545313,101.7151839"),
    ("location", "-33.8688,151.2093", "-33.8688,151.2093"),
]
INVALID: list[tuple[str, str]] = [
    ("text", "   "),
    ("multiple_choice", "Quizás"),
    ("multiple_choice", "0"),
    ("multiple_choice", "4"),
    ("multiple_choice", "Sí, claro"),
    ("number", "abc"),
    ("number", "1.2.3"),
    ("number", "1e5"),
    ("number", "3,5,1"),
    ("number", "12 345"),
    ("rating", "0"),
    ("rating", "6"),
    ("rating", "4.5"),
    ("rating", "cinco"),
    ("date", "2023-02-29"),
    ("date", "mañana"),
    ("date", "2024/13/01"),
    ("date", "31-12-24"),
    ("phone", "123"),
    ("phone", "llámame"),
    ("email", "no es un email"),
    ("email", "ana@"),
    ("url", "ftp://example.com"),
    ("url", "no es una url"),
    ("url", "localhost"),
    ("location", "(91, 10)"),
    ("location", "(10, 181)"),
    ("location", "en casa"),
]


def _parse(question_type: str, text: str, **overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "text": text,
        "content": {"type": "text", "text": text},
        "options": OPTIONS,
        "min_value": None,
        "max_value": None,
        "date_format": "DD/MM/YYYY",
        "default_country": "ES",
        **overrides,
    }
    return parse_answer(question_type, **arguments)


@pytest.mark.parametrize(("question_type", "text", "stored"), VALID)
def test_valid_answers_are_stored_normalised_WF_STEP_ASK_03(
    question_type: str, text: str, stored: Any
) -> None:
    assert _parse(question_type, text) == stored


@pytest.mark.parametrize(("question_type", "text"), INVALID)
def test_invalid_answers_are_refused_WF_STEP_ASK_03(question_type: str, text: str) -> None:
    assert _parse(question_type, text) is None


def test_an_option_text_wins_over_an_option_number_WF_STEP_ASK_03() -> None:
    # a tapped quick reply sends the option's text, so "1" is the option "1", not the first option
    assert _parse("multiple_choice", "1", options=["2", "1"]) == "1"
    assert _parse("multiple_choice", "2", options=["Más de 10", "2"]) == "2"
    assert _parse("multiple_choice", "1", options=["Más de 10", "2"]) == "Más de 10"


def test_number_answers_must_be_within_min_and_max_WF_STEP_ASK_03() -> None:
    assert _parse("number", "18", min_value=18, max_value=99) == 18
    assert _parse("number", "99", min_value=18, max_value=99) == 99
    assert _parse("number", "17,9", min_value=18, max_value=99) is None
    assert _parse("number", "100", min_value=18, max_value=99) is None
    assert _parse("number", "-5", max_value=0) == -5


def test_dates_follow_the_workspace_date_format_WF_STEP_ASK_03() -> None:
    assert _parse("date", "12/31/2024", date_format="MM/DD/YYYY") == "2024-12-31"
    assert _parse("date", "12/31/2024", date_format="DD/MM/YYYY") is None
    assert _parse("date", "2024-12-31", date_format="MM/DD/YYYY") == "2024-12-31"


def test_national_phone_numbers_need_a_country_WF_STEP_ASK_03() -> None:
    assert _parse("phone", "612 34 56 78", default_country=None) is None
    assert _parse("phone", "(201) 555-0123", default_country="US") == "+12015550123"


def test_a_location_message_is_a_location_answer_WF_STEP_ASK_03() -> None:
    content = {"type": "location", "latitude": 3.1545313, "longitude": 101.7151839}
    assert _parse("location", "", content=content) == "3.1545313,101.7151839"


# --- WF-STEP-ASK-01: how the question is sent (pure) ------------------------------------------


class _Render:
    def render(self, text: str) -> str:
        return text


def test_options_go_as_quick_replies_where_the_channel_has_buttons_WF_STEP_ASK_01() -> None:
    ctx = cast(StepContext, _Render())
    choice = AskQuestionConfig(
        question="¿Área?", question_type="multiple_choice", options=["Ventas", "Soporte"]
    )
    assert _question(choice, ctx, "telegram") == {
        "type": "quick_reply",
        "title": "¿Área?",
        "replies": ["Ventas", "Soporte"],
    }
    rating = AskQuestionConfig(question="¿Nota?", question_type="rating")
    assert _question(rating, ctx, "webchat")["replies"] == ["1", "2", "3", "4", "5"]


def test_options_go_as_a_numbered_list_where_the_channel_has_no_buttons_WF_STEP_ASK_01() -> None:
    ctx = cast(StepContext, _Render())
    choice = AskQuestionConfig(
        question="¿Área?", question_type="multiple_choice", options=["Ventas", "Soporte"]
    )
    assert _question(choice, ctx, "other_email") == {"type": "text", "text": "¿Área?\n1. Ventas\n2. Soporte"}
    plain = AskQuestionConfig(question="¿Nombre?")
    assert _question(plain, ctx, "telegram") == {"type": "text", "text": "¿Nombre?"}


# --- end to end -------------------------------------------------------------------------------


def _ask(config: dict[str, Any], *, then: str = "Gracias", **outputs: str) -> dict[str, Any]:
    """OPENED → ask (s1) → send `then` (s2); extra outputs point at steps f (failure) / t (timeout)."""
    steps = [step("s1", "ask_question", {"question": "¿Pregunta?", **config}, next="s2", **outputs)]
    steps.append(step("s2", "send_message", {"text": then}))
    if "failure" in outputs:
        steps.append(step("f", "send_message", {"text": "Falló: $var.last_error"}))
    if "timeout" in outputs:
        steps.append(step("t", "send_message", {"text": "Se acabó el tiempo"}))
    return definition(OPENED, *steps)


def _contact(session: Session, inbound: Inbound) -> Contact:
    session.expire_all()
    contact = session.get(Contact, inbound.contact.id)
    assert contact is not None
    session.commit()
    return contact


def _custom_field(h: Harness, name: str, type: str, options: list[str] | None = None) -> str:
    field = fields.create_field(h.session, h.owner, name=name, type=type, options=options)
    h.session.commit()
    return field.slug


def test_the_question_is_asked_on_the_last_interacted_channel_with_quick_replies_WF_STEP_ASK_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        _ask(
            {
                "question": "¿Área, $contact.firstname?",
                "question_type": "multiple_choice",
                "options": ["Ventas", "Soporte"],
            }
        )
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    [sent] = container.test_channel.sent
    assert (sent.channel_id, sent.external_id) == (h.channel.id, "visitor-1")
    assert sent.content == {"type": "quick_reply", "title": "¿Área, Ana?", "replies": ["Ventas", "Soporte"]}
    [run] = h.runs(workflow.id)
    assert (run.status, run.wait_kind) == ("waiting", "reply")


def test_the_next_inbound_message_on_any_channel_is_the_answer_WF_STEP_ASK_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_ask({"save_variable": "respuesta"}, then="Dijiste $var.respuesta"))
    inbound = h.inbound("visitor-1", "hola")
    other = make_channel(session, workspace_id=h.world.workspace.id, kind="test", name="Other")
    link_identity(session, contact=_contact(session, inbound), channel=other, external_id="other-visitor")
    session.commit()
    h.drain()
    record_inbound(session, channel=other, external_id="other-visitor", content=TextContent(text="por aquí"))
    session.commit()
    h.drain()
    assert h.sent_texts() == ["¿Pregunta?", "Dijiste por aquí"]
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert h.steps(run.id)[0].summary["answer"] == "por aquí"


def test_with_several_questions_waiting_the_most_recently_asked_gets_the_answer_WF_STEP_ASK_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    first = h.publish(_ask({"question": "¿Primera?", "save_variable": "a"}, then="Uno: $var.a"), name="Uno")
    second = h.publish(
        definition(
            OPENED,
            step("w", "wait", {"amount": 1, "unit": "hours"}, next="s1"),
            step("s1", "ask_question", {"question": "¿Segunda?", "save_variable": "b"}, next="s2"),
            step("s2", "send_message", {"text": "Dos: $var.b"}),
        ),
        name="Dos",
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    container.clock.advance(hours=1)  # type: ignore[attr-defined]
    h.drain()
    assert h.sent_texts() == ["¿Primera?", "¿Segunda?"]
    h.inbound("visitor-1", "respuesta A")
    h.drain()
    assert h.sent_texts()[-1] == "Dos: respuesta A"  # the question asked last took it
    assert h.runs(first.id)[0].status == "waiting"
    h.inbound("visitor-1", "respuesta B")
    h.drain()
    assert h.sent_texts()[-1] == "Uno: respuesta B"
    assert [r.end_reason for r in h.runs(first.id) + h.runs(second.id)] == ["completed", "completed"]


def test_a_valid_answer_is_saved_as_field_and_variable_WF_STEP_ASK_03_WF_STEP_ASK_05(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    slug = _custom_field(h, "Edad", "number")
    workflow = h.publish(
        _ask(
            {"question_type": "number", "min_value": 18, "save_field": slug, "save_variable": "edad"},
            then="Tienes $var.edad ($contact.edad)",
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    h.inbound("visitor-1", " 42,0 ")
    h.drain()
    assert h.sent_texts()[-1] == "Tienes 42 (42)"
    assert _contact(session, inbound).attributes[slug] == 42
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    [updated] = events_of(session, workspace_id=h.world.workspace.id, type="contact.updated")
    assert (updated.source, updated.run_id) == ("workflow", run.id)


def test_an_invalid_answer_is_never_saved_and_the_question_is_asked_again_WF_STEP_ASK_04(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    slug = _custom_field(h, "Cumpleaños", "date")
    workflow = h.publish(
        _ask(
            {
                "question": "¿Fecha?",
                "question_type": "date",
                "save_field": slug,
                "save_variable": "fecha",
                "invalid_message": "Formato AAAA-MM-DD, $contact.firstname",
                "max_attempts": 3,
            },
            then="Anotado: $var.fecha",
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    h.inbound("visitor-1", "el martes")
    h.drain()
    h.inbound("visitor-1", "2023-02-30")
    h.drain()
    assert h.sent_texts() == [
        "¿Fecha?",
        "Formato AAAA-MM-DD, Ana\n\n¿Fecha?",
        "Formato AAAA-MM-DD, Ana\n\n¿Fecha?",
    ]
    assert slug not in _contact(session, inbound).attributes
    assert events_of(session, workspace_id=h.world.workspace.id, type="contact.updated") == []
    [run] = h.runs(workflow.id)
    assert (run.status, run.wait_kind) == ("waiting", "reply")
    assert "fecha" not in run.variables.get("var", {})
    h.inbound("visitor-1", "24/12/1990")  # the third attempt is valid
    h.drain()
    assert h.sent_texts()[-1] == "Anotado: 1990-12-24"
    assert _contact(session, inbound).attributes[slug] == "1990-12-24"
    assert h.runs(workflow.id)[0].end_reason == "completed"


def test_the_default_invalid_answer_message_follows_the_contact_language_WF_STEP_ASK_04(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    h.publish(_ask({"question_type": "rating"}))
    inbound = h.inbound("visitor-1", "hola")
    contacts.update_contact(
        session, contact=_contact(session, inbound), actor=Actor.system(), values={"language": "es"}
    )
    session.commit()
    h.drain()
    h.inbound("visitor-1", "diez")
    h.drain()
    assert h.sent_texts()[-1] == "Lo siento, esa respuesta no es válida.\n\n¿Pregunta?"


def test_attempts_running_out_take_the_failure_branch_WF_STEP_ASK_04_WF_STEP_ASK_08(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        _ask(
            {"question_type": "email", "save_field": "email", "max_attempts": 2, "failure_branch": True},
            failure="f",
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    h.inbound("visitor-1", "no")
    h.drain()
    h.inbound("visitor-1", "tampoco")
    h.drain()
    assert h.sent_texts()[-1] == "Falló: No valid answer after the allowed attempts"
    assert _contact(session, inbound).email is None
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("s1", "failure"), ("f", "next")]


def test_attempts_running_out_without_failure_branch_end_the_run_invalid_answer_WF_STEP_ASK_04(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_ask({"question_type": "number", "max_attempts": 1}))
    h.inbound("visitor-1", "hola")
    h.drain()
    h.inbound("visitor-1", "muchos")
    h.drain()
    assert h.sent_texts() == ["¿Pregunta?"]  # no re-ask once attempts are used up
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "invalid_answer")


@pytest.mark.parametrize(
    ("question_type", "field_type", "answer", "stored"),
    [
        ("multiple_choice", "list", "2", "Soporte"),
        ("rating", "number", "4", 4),
        ("url", "url", "example.com/a", "https://example.com/a"),
        ("location", "text", "(40.4168, -3.7038)", "40.4168,-3.7038"),
        ("phone", "text", "+34 612 34 56 78", "+34612345678"),
        ("date", "text", "2024-05-01", "2024-05-01"),
    ],
)
def test_answers_are_saved_into_compatible_custom_fields_WF_STEP_ASK_05(
    session: Session, container: Container, question_type: str, field_type: str, answer: str, stored: Any
) -> None:
    h = Harness(session, container)
    slug = _custom_field(h, "Destino", field_type, ["Ventas", "Soporte"] if field_type == "list" else None)
    options = ["ventas", "soporte"] if question_type == "multiple_choice" else []
    h.publish(_ask({"question_type": question_type, "options": options, "save_field": slug}))
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    h.inbound("visitor-1", answer)
    h.drain()
    value = _contact(session, inbound).attributes[slug]
    assert value == stored if field_type != "list" else value == "Soporte"  # the field's own spelling


def test_answers_are_saved_into_the_standard_phone_and_email_fields_WF_STEP_ASK_05(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    h.publish(
        definition(
            OPENED,
            step(
                "s1",
                "ask_question",
                {"question": "¿Teléfono?", "question_type": "phone", "save_field": "phone"},
                next="s2",
            ),
            step(
                "s2", "ask_question", {"question": "¿Email?", "question_type": "email", "save_field": "email"}
            ),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    h.inbound("visitor-1", "+34 612 34 56 78")
    h.drain()
    h.inbound("visitor-1", "Ana@Example.com")
    h.drain()
    contact = _contact(session, inbound)
    assert (contact.phone, contact.email, contact.country_code) == ("+34612345678", "ana@example.com", "ES")


def test_a_phone_or_email_owned_by_another_contact_is_not_saved_WF_STEP_ASK_05(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    make_contact(session, workspace_id=h.world.workspace.id, phone="+34612345678", email="ana@example.com")
    session.commit()
    workflow = h.publish(
        definition(
            OPENED,
            step(
                "s1",
                "ask_question",
                {
                    "question": "¿Teléfono?",
                    "question_type": "phone",
                    "save_field": "phone",
                    "save_variable": "tel",
                },
                next="s2",
            ),
            step(
                "s2",
                "ask_question",
                {"question": "¿Email?", "question_type": "email", "save_field": "email"},
                next="s3",
            ),
            step("s3", "send_message", {"text": "Tel $var.tel"}),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    h.inbound("visitor-1", "+34 612 34 56 78")
    h.drain()
    h.inbound("visitor-1", "ana@example.com")
    h.drain()
    contact = _contact(session, inbound)
    assert (contact.phone, contact.email) == (None, None)
    assert h.sent_texts()[-1] == "Tel +34612345678"  # the variable is still saved; the run goes on
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    ask_phone, ask_email, _send = h.steps(run.id)
    assert (ask_phone.output, ask_email.output) == ("next", "next")
    assert "phone" in ask_phone.summary["not_saved"] and "email" in ask_email.summary["not_saved"]


def test_a_national_phone_answer_uses_the_contacts_country_WF_STEP_ASK_03(
    session: Session, container: Container
) -> None:
    # "Phone parsed to E.164 with the contact's or workspace's country": the contact's comes first
    h = Harness(session, container)
    h.publish(_ask({"question_type": "phone", "save_variable": "tel"}, then="Tel $var.tel"))
    inbound = h.inbound("visitor-1", "hola")
    contacts.update_contact(
        session, contact=_contact(session, inbound), actor=Actor.system(), values={"country_code": "MX"}
    )
    session.commit()
    h.drain()
    h.inbound("visitor-1", "55 1234 5678")
    h.drain()
    assert h.sent_texts()[-1] == "Tel +525512345678"


@pytest.mark.parametrize(
    ("question_type", "save_field", "field_type"),
    [
        ("number", "birthday", "date"),
        ("text", "age", "number"),
        ("email", "phone", None),
        ("phone", "email", None),
        ("multiple_choice", "plan", "list"),  # an option outside the list's allowed values
        ("date", "site", "url"),
    ],
)
def test_saving_into_an_incompatible_field_is_refused_at_publish_WF_STEP_ASK_05(
    session: Session, container: Container, question_type: str, save_field: str, field_type: str | None
) -> None:
    h = Harness(session, container)
    if field_type is not None:
        _custom_field(h, save_field, field_type, ["Basic"] if field_type == "list" else None)
    options = ["Basic", "Pro"] if question_type == "multiple_choice" else []
    with pytest.raises(WorkflowInvalid) as refused:
        h.publish(_ask({"question_type": question_type, "options": options, "save_field": save_field}))
    assert [p["code"] for p in refused.value.details] == ["incompatible_field"]


def test_a_multiple_choice_answer_is_saved_as_a_tag_created_if_missing_WF_STEP_ASK_06(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    tags.ensure_tags(session, workspace_id=h.world.workspace.id, names=["Ventas"])
    session.commit()
    h.publish(
        definition(
            OPENED,
            step(
                "s1",
                "ask_question",
                {
                    "question": "¿Área?",
                    "question_type": "multiple_choice",
                    "options": ["Ventas", "Soporte técnico"],
                    "save_tag": True,
                },
                next="s2",
            ),
            step(
                "s2",
                "ask_question",
                {
                    "question": "¿Otra?",
                    "question_type": "multiple_choice",
                    "options": ["Ventas", "Soporte técnico"],
                    "save_tag": True,
                },
            ),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    h.inbound("visitor-1", "soporte tecnico")  # named after the option, not the typed text
    h.drain()
    h.inbound("visitor-1", "1")
    h.drain()
    assert contact_tag_names(session, inbound.contact.id) == ["Soporte técnico", "Ventas"]
    names = [t.name for t, _count in tags.list_tags(session, workspace_id=h.world.workspace.id)]
    assert sorted(names) == ["Soporte técnico", "Ventas"]
    tag_events = events_of(session, workspace_id=h.world.workspace.id, type="contact.tag.updated")
    assert [e.source for e in tag_events] == ["workflow", "workflow"]


def test_without_an_answer_the_question_times_out_after_seven_days_WF_STEP_ASK_07(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_ask({"timeout_branch": True}, timeout="t"))
    h.inbound("visitor-1", "hola")
    h.drain()
    container.clock.advance(days=6, hours=23, minutes=59)  # type: ignore[attr-defined]
    h.drain()
    assert h.runs(workflow.id)[0].status == "waiting"
    container.clock.advance(minutes=1)  # type: ignore[attr-defined]  # exactly 7 days
    h.drain()
    assert h.sent_texts() == ["¿Pregunta?", "Se acabó el tiempo"]
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("s1", "timeout"), ("t", "next")]


def test_a_timeout_without_timeout_branch_ends_the_run_WF_STEP_ASK_07(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_ask({}))
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    container.clock.advance(days=7)  # type: ignore[attr-defined]
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "timeout")
    assert h.sent_texts() == ["¿Pregunta?"]
    # a late message is no answer any more: it opens a conversation as usual
    conversations.close_conversation(
        session, contact=_contact(session, inbound), actor=Actor.system(), category_id=None, summary=None,
        enforce_notes=False,
    )  # fmt: skip
    session.commit()
    late = h.inbound("visitor-1", "perdón, tarde")
    h.drain()
    assert late.conversation_opened


def test_an_empty_timeout_branch_ends_the_run_WF_STEP_ASK_07_WF_RUN_11(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_ask({"timeout_branch": True, "timeout_seconds": 3600}))
    h.inbound("visitor-1", "hola")
    h.drain()
    container.clock.advance(hours=1)  # type: ignore[attr-defined]
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.cursor) == ("ended", None)
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("s1", "timeout")]
    assert h.sent_texts() == ["¿Pregunta?"]


def test_the_timeout_counts_from_the_first_asking_not_from_a_re_ask_WF_STEP_ASK_07(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_ask({"question_type": "number", "timeout_branch": True}, timeout="t"))
    h.inbound("visitor-1", "hola")
    h.drain()
    container.clock.advance(days=3)  # type: ignore[attr-defined]
    h.inbound("visitor-1", "no sé")  # invalid: asked again
    h.drain()
    container.clock.advance(days=4)  # type: ignore[attr-defined]
    h.drain()
    assert h.sent_texts()[-1] == "Se acabó el tiempo"
    assert h.runs(workflow.id)[0].end_reason == "completed"


def test_a_question_that_cannot_be_sent_takes_the_failure_branch_WF_STEP_ASK_08(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_ask({"failure_branch": True}, failure="f"))
    container.test_channel.fail_next(reason="refused")
    h.inbound("visitor-1", "hola")
    h.drain()
    assert h.sent_texts() == ["Falló: refused"]
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("s1", "failure"), ("f", "next")]


def test_a_question_with_no_channel_to_send_on_ends_the_run_without_failure_branch_WF_STEP_ASK_08(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_ask({}))
    h.inbound("visitor-1", "hola")
    h.channel.state = "disconnected"
    session.commit()
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "send_failed")
    assert h.steps(run.id)[0].summary["error"] == "The contact has no channel to send on"
    assert container.test_channel.sent == []


def test_an_answer_after_the_conversation_closed_does_not_reopen_it_WF_STEP_ASK_09_WF_RUN_13(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("c", "close_conversation", {}, next="s1"),
            step(
                "s1",
                "ask_question",
                {"question": "¿Qué tal te atendimos?", "question_type": "rating"},
                next="s2",
            ),
            step("s2", "send_message", {"text": "Gracias"}),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    assert conversations.find_open(session, contact_id=inbound.contact.id) is None
    answer = h.inbound("visitor-1", "5")
    h.drain()
    assert not answer.conversation_opened
    assert conversations.find_open(session, contact_id=inbound.contact.id) is None
    assert len(events_of(session, workspace_id=h.world.workspace.id, type="conversation.opened")) == 1
    stored = session.scalar(select(Message).where(Message.id == answer.message.id))
    assert stored is not None and (stored.traffic, stored.conversation_id) == (
        "incoming",
        None,
    )  # still in history
    assert h.sent_texts()[-1] == "Gracias"
    assert h.runs(workflow.id)[0].end_reason == "completed"


def test_an_answer_under_a_conversation_closed_trigger_does_not_reopen_it_WF_STEP_ASK_09(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            {"type": "conversation_closed", "config": {}},
            step(
                "s1",
                "ask_question",
                {"question": "¿Nos valoras?", "question_type": "rating", "save_variable": "nota"},
                next="s2",
            ),
            step("s2", "send_message", {"text": "Nota $var.nota"}),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    conversations.close_conversation(
        session, contact=_contact(session, inbound), actor=Actor.user(h.world.agent.id), category_id=None,
        summary=None, enforce_notes=False,
    )  # fmt: skip
    session.commit()
    h.drain()
    answer = h.inbound("visitor-1", "4")
    h.drain()
    assert not answer.conversation_opened
    assert conversations.find_open(session, contact_id=inbound.contact.id) is None
    assert h.sent_texts() == ["¿Nos valoras?", "Nota 4"]
    assert h.runs(workflow.id)[0].end_reason == "completed"
    # once the run ended, the contact's next message opens a conversation again
    assert h.inbound("visitor-1", "otra cosa").conversation_opened


def test_a_location_message_answers_a_location_question_WF_STEP_ASK_03(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    h.publish(_ask({"question_type": "location", "save_variable": "donde"}, then="En $var.donde"))
    h.inbound("visitor-1", "hola")
    h.drain()
    record_inbound(
        session,
        channel=h.channel,
        external_id="visitor-1",
        content=LocationContent(latitude=40.4168, longitude=-3.7038),
    )
    session.commit()
    h.drain()
    assert h.sent_texts()[-1] == "En 40.4168,-3.7038"
