"""A field campaign's survey script: its rules (question types, answers, branching) and the
answers a door or a call gives, kept only when shown and in the question's type."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from canvassing.models import QuestionType

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def validate_survey(questions: Any) -> list[dict[str, Any]]:
    """The survey normalised, or a ValidationError naming the question at fault."""
    if not isinstance(questions, list):
        raise ValidationError(_("The survey is a list of questions."))
    seen: dict[str, dict[str, Any]] = {}
    result = []
    for index, raw in enumerate(questions, start=1):
        if not isinstance(raw, dict):
            raise ValidationError(_("Question %(n)s: not a question.") % {"n": index})
        key = str(raw.get("key", "")).strip()
        label = str(raw.get("label", "")).strip()
        kind = raw.get("type")
        if not KEY_PATTERN.match(key) or key in seen:
            raise ValidationError(
                _("Question %(n)s: give a unique key (lowercase letters, digits, _).")
                % {"n": index}
            )
        if not label:
            raise ValidationError(_("Question %(n)s: the question text is missing.") % {"n": index})
        if kind not in QuestionType.values:
            raise ValidationError(_("Question %(n)s: unknown type.") % {"n": index})
        question: dict[str, Any] = {"key": key, "label": label, "type": kind}
        if kind == QuestionType.CHOICE:
            choices = [str(c).strip() for c in raw.get("choices") or [] if str(c).strip()]
            if len(choices) < 2:
                raise ValidationError(
                    _("Question %(n)s: a choice needs at least two answers.") % {"n": index}
                )
            question["choices"] = choices
        show_if = raw.get("show_if")
        if show_if:
            parent = (
                seen.get(str(show_if.get("question", ""))) if isinstance(show_if, dict) else None
            )
            if parent is None:
                raise ValidationError(
                    _("Question %(n)s: it can only depend on an earlier question.") % {"n": index}
                )
            # An answer the earlier question cannot give would hide this one for ever.
            wanted = show_if.get("equals")
            equals = None if wanted in (None, "") else answer_value(parent, wanted)
            if equals is None:
                raise ValidationError(
                    _("Question %(n)s: choose one of the answers of the question it depends on.")
                    % {"n": index}
                )
            question["show_if"] = {"question": parent["key"], "equals": equals}
        seen[key] = question
        result.append(question)
    return result


def answer_value(question: dict[str, Any], value: Any) -> Any:
    """The answer in the question's type (True/False, 1-5, one of the choices, text), or None
    when it cannot be an answer to that question."""
    kind = question["type"]
    if kind == QuestionType.YES_NO:
        if isinstance(value, bool):
            return value
        word = str(value).lower()
        if word in {"true", "yes", "oui", "1"}:
            return True
        if word in {"false", "no", "non", "0"}:
            return False
        return None
    if kind == QuestionType.SCALE:
        try:
            number = int(value)
        except (TypeError, ValueError):
            return None
        return number if 1 <= number <= 5 else None
    if kind == QuestionType.CHOICE:
        return value if value in question.get("choices", []) else None
    return str(value)[:2000]


def clean_answers(survey: Sequence[dict[str, Any]], answers: Any) -> dict[str, Any]:
    """Keep the answers to questions that were shown, each of the right type."""
    if not isinstance(answers, dict):
        return {}
    clean: dict[str, Any] = {}
    for question in survey:
        key = question["key"]
        condition = question.get("show_if")
        if condition and clean.get(condition["question"]) != condition["equals"]:
            continue
        if key not in answers or answers[key] in (None, ""):
            continue
        value = answer_value(question, answers[key])
        if value is not None:
            clean[key] = value
    return clean
