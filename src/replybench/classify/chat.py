"""Classification of chat messages: a bot's stock lines, a person's answer, or a pointer to another channel.

A chat message arrives with its context (:class:`~replybench.channels.chatlog.ChatMessage`): who the widget's
markup says wrote it, when it was rendered relative to the page opening and to our inquiry, and the company's
earlier messages. Rules are tried in order and the first that matches decides:

1. ``chat.visitor`` → own_copy (1.0): our own message (the ingestor marks these before they get here);
2. ``chat.instant_greeting`` → auto_ack (0.9): rendered before our inquiry and within
   :data:`INSTANT_GREETING_S` of the widget opening, whatever the markup says (widgets dress their greeting
   up as a person with a photo);
3. ``chat.deflection`` → deflection (0.85 from an agent, 0.8 otherwise): "please call us", "use our contact
   form", "send us an email", "visit our help centre", in several languages, from the phrase table the email
   classifier uses too (:mod:`replybench.classify.phrases`); ``detail["deflect_to"]`` says where to (phone,
   form, email, web, social, post, branch, elsewhere). A channel merely offered in a courtesy sentence
   ("if you have further questions, feel free to call us") is not a deflection. A chat message is one turn,
   so unlike an email it is not weighed against the rest of the reply;
4. ``chat.author_system`` → auto_ack (0.8): a notice of the widget ("Maria joined the chat");
5. ``chat.author_bot`` → auto_ack (0.95, 0.98 with a stock phrase): the markup says bot;
6. ``chat.bot_identity`` → auto_ack (0.85, 0.7 when the markup says agent): "I'm a virtual assistant",
   "Ich bin ein virtueller Assistent", "chatbot", …;
7. ``chat.agent_takeover`` → human (0.95 with agent markup, 0.85 without): a new name after a
   "connecting you to an agent" message;
8. ``chat.author_agent`` → human (0.9, 0.75 when a stock phrase is in it): the markup says agent;
9. ``chat.handoff_phrase`` → auto_ack (0.8) and ``chat.greeting_phrase`` → auto_ack (0.6): stock lines
   ("connecting you to an agent", "please wait", "an agent will be with you", "how can I help you today")
   without agent markup;
10. ``chat.name_change`` → human (0.65): unmarked, no stock phrase, and a name the company's earlier
    messages did not carry;
11. ``chat.unmarked`` → unknown (0.4).

Phrases are matched on a normalised text (NFKC, case-folded, typographic quotes and ellipses made plain,
whitespace collapsed), so case and spacing never change the answer. Every classification carries
``detail["before_inquiry"]`` ("true"/"false": a message rendered before our inquiry is not a response) and
``detail["author_hint"]`` (the markup's author); ``detail["phrase"]``/``["phrase_kind"]`` name the stock
phrase that was found, if any.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from replybench.channels.chatlog import ChatMessage
from replybench.classify import Classification
from replybench.classify.headers import evidence
from replybench.classify.phrases import WORD_END, WORD_START, DeflectTo, compile_any, deflection, normalise
from replybench.classify.promise import extract_promise
from replybench.models import MessageClass

__all__ = [
    "INSTANT_GREETING_S",
    "DeflectTo",
    "PhraseKind",
    "classify_chat",
    "deflection",
    "normalise",
    "stock_phrase",
]

#: A message rendered this soon after the widget opened, before we asked anything, is a canned greeting.
INSTANT_GREETING_S = 2.0

PhraseKind = Literal["identity", "handoff", "greeting"]

_B = WORD_START
_E = WORD_END
_compile = compile_any

#: "I am a bot": the bot says what it is.
_IDENTITY = _compile(
    rf"{_B}virtual (?:assistant|agent){_E}",
    rf"{_B}(?:chat ?bot|automated assistant|ai assistant|digital assistant){_E}",
    rf"{_B}i(?:'m| am) (?:a|an|the|your) (?:\w+ )?(?:bot|robot){_E}",
    rf"{_B}(?:this is an? automated (?:message|reply|response)|automated message){_E}",
    rf"{_B}(?:virtuelle[rn]? assistent(?:in)?|digitale[rn]? assistent(?:in)?){_E}",
    rf"{_B}ich bin ein (?:bot|chatbot|roboter){_E}",
    rf"{_B}(?:assistante? virtuel(?:le)?|agent virtuel|je suis un (?:robot|bot|chatbot)){_E}",
    rf"{_B}(?:asistente virtual|soy un (?:bot|robot|chatbot)){_E}",
    rf"{_B}(?:assistente virtuale|sono un (?:bot|robot|chatbot)){_E}",
    rf"{_B}(?:virtuele assistent|digitale assistent|ik ben een (?:bot|chatbot)){_E}",
)

#: The queue and hand-over lines a widget says while nobody is there yet.
_HANDOFF = _compile(
    rf"{_B}connecting you (?:to|with){_E}",
    rf"{_B}(?:transferring|transfer) you to (?:an? |one of our )?(?:agent|advisor|adviser|representative|"
    rf"human|colleague|specialist|team member){_E}",
    rf"{_B}(?:an?|the next available|one of our) (?:\w+ )?(?:agents?|advisors?|advisers?|representatives?|"
    rf"team members?|colleagues?|operators?) will (?:be with you|join|respond|reply|answer|get back|"
    rf"be right with you|assist|help)",
    rf"{_B}please (?:wait|hold)(?: on)?(?: the line)?{_E}",
    rf"{_B}you are (?:number |no\. ?|#)?\d+ in (?:the )?(?:queue|line){_E}",
    rf"{_B}all (?:of )?our (?:agents|advisors|operators|team members) are (?:currently )?(?:busy|helping)",
    rf"{_B}(?:waiting for an? (?:agent|advisor|operator)|looking for an available (?:agent|advisor)){_E}",
    rf"{_B}(?:ich verbinde (?:sie|dich)|wir verbinden (?:sie|dich)|einen moment(?:,)? bitte|"
    rf"bitte (?:warten sie|haben sie (?:einen moment )?geduld|gedulden sie sich|warte)|"
    rf"(?:ein|eine) (?:mitarbeiter(?:in)?|berater(?:in)?|kollege|kollegin) (?:wird|ist gleich))",
    rf"{_B}(?:nous vous mettons en (?:relation|contact)|veuillez patienter|un (?:conseiller|agent) (?:va|vous))",
    rf"{_B}(?:le estamos (?:conectando|transfiriendo)|te estamos conectando|por favor,? espere|"
    rf"un agente (?:le|te) atender[aá])",
    rf"{_B}(?:la stiamo (?:mettendo in contatto|collegando)|attenda(?:,)? prego|un operatore (?:la|ti))",
    rf"{_B}(?:we verbinden (?:u|je)|een (?:medewerker|adviseur) (?:komt|zal|is zo)|even geduld)",
)

#: Greetings people also say, so they decide only when nothing else does.
_GREETING = _compile(
    rf"{_B}how (?:can|may) (?:i|we) (?:help|assist)(?: you)?(?: today)?{_E}",
    rf"{_B}what can (?:i|we) (?:help you with|do for you)(?: today)?{_E}",
    rf"{_B}wie (?:kann ich|können wir) (?:ihnen|dir|euch) (?:heute )?helfen{_E}",
    rf"{_B}(?:comment|en quoi) (?:puis-je|pouvons-nous) vous aider{_E}",
    rf"{_B}(?:en qu[eé]|c[oó]mo) (?:puedo|podemos) ayudar(?:le|te)?{_E}",
    rf"{_B}come (?:posso|possiamo) aiutar(?:la|ti|vi){_E}",
    rf"{_B}(?:hoe|waarmee) kan ik (?:u|je|jou) (?:mee )?helpen{_E}",
)

_PHRASES: tuple[tuple[PhraseKind, re.Pattern[str]], ...] = (
    ("identity", _IDENTITY),
    ("handoff", _HANDOFF),
    ("greeting", _GREETING),
)


def stock_phrase(text: str) -> tuple[PhraseKind, str] | None:
    """The strongest bot stock phrase in a text (identity, then hand-over, then greeting) and its words."""
    plain = normalise(text)
    for kind, pattern in _PHRASES:
        m = pattern.search(plain)
        if m:
            return kind, m.group(0)
    return None


def _result(
    cls: MessageClass, rule: str, confidence: float, proof: str, base: Mapping[str, str], **extra: str
) -> Classification:
    return Classification(cls, rule, confidence, evidence(proof), MappingProxyType({**base, **extra}))


def _takeover(message: ChatMessage) -> str | None:
    """The name of the "connecting you" message this one's new name follows, if it follows one."""
    if not message.name:
        return None
    for author, name, text in reversed(message.earlier):
        found = stock_phrase(text)
        if author in ("bot", "system", "unknown") and found is not None and found[0] == "handoff":
            if name != message.name:
                return name or author
            return None
    return None


def classify_chat(message: ChatMessage) -> Classification:
    """Classify one chat message by the rules in this module's docstring (first match wins).

    A response-time promise a bot, a greeting or a deflection states ("an agent will reply within 2 hours")
    is recorded in ``detail`` like an email acknowledgement's (see :mod:`replybench.classify.promise`).
    """
    result = _classify(message)
    if result.cls not in (MessageClass.AUTO_ACK, MessageClass.DEFLECTION):
        return result
    promise = extract_promise(message.text)
    if promise is None:
        return result
    detail = MappingProxyType({**result.detail, **promise.to_detail()})
    return Classification(result.cls, result.rule, result.confidence, result.evidence, detail)


def _classify(message: ChatMessage) -> Classification:
    author = message.author
    base: dict[str, str] = {
        "before_inquiry": "true" if message.before_inquiry else "false",
        "author_hint": author,
    }
    since_open = (message.at - message.page_opened_at).total_seconds()
    base["since_open_s"] = f"{since_open:.3f}"
    excerpt = message.text[:120]
    if author == "visitor":
        return _result(MessageClass.OWN_COPY, "chat.visitor", 1.0, excerpt, base)

    phrase = stock_phrase(message.text)
    if phrase is not None:
        base |= {"phrase": phrase[1], "phrase_kind": phrase[0]}
    quoted = f"“{phrase[1]}”" if phrase else excerpt

    if message.before_inquiry and since_open <= INSTANT_GREETING_S:
        proof = f"rendered {since_open:.2f} s after the chat opened, before the inquiry; {quoted}"
        return _result(MessageClass.AUTO_ACK, "chat.instant_greeting", 0.9, proof, base)

    sent_away = deflection(message.text)
    if sent_away is not None:
        confidence = 0.85 if author == "agent" else 0.8
        return _result(
            MessageClass.DEFLECTION,
            "chat.deflection",
            confidence,
            f"“{sent_away[1]}”",
            base,
            deflect_to=sent_away[0],
        )
    if author == "system":
        return _result(MessageClass.AUTO_ACK, "chat.author_system", 0.8, f"markup: system; {excerpt}", base)
    if author == "bot":
        confidence = 0.98 if phrase else 0.95
        return _result(MessageClass.AUTO_ACK, "chat.author_bot", confidence, f"markup: bot; {quoted}", base)
    if phrase is not None and phrase[0] == "identity":
        confidence = 0.7 if author == "agent" else 0.85
        return _result(
            MessageClass.AUTO_ACK, "chat.bot_identity", confidence, f"{quoted} (markup: {author})", base
        )

    handed_over_by = _takeover(message)
    if handed_over_by is not None:
        confidence = 0.95 if author == "agent" else 0.85
        proof = f"{message.name} answers after {handed_over_by}'s hand-over (markup: {author})"
        return _result(
            MessageClass.HUMAN, "chat.agent_takeover", confidence, proof, base, taken_over_from=handed_over_by
        )
    if author == "agent":
        confidence = 0.75 if phrase else 0.9
        return _result(MessageClass.HUMAN, "chat.author_agent", confidence, f"markup: agent; {quoted}", base)
    if phrase is not None:
        rule, confidence = (
            ("chat.handoff_phrase", 0.8) if phrase[0] == "handoff" else ("chat.greeting_phrase", 0.6)
        )
        return _result(MessageClass.AUTO_ACK, rule, confidence, quoted, base)

    earlier_names = {name for who, name, _ in message.earlier if name and who != "visitor"}
    if message.name and earlier_names and message.name not in earlier_names:
        proof = f"new name {message.name} after {', '.join(sorted(earlier_names))}; {excerpt}"
        return _result(MessageClass.HUMAN, "chat.name_change", 0.65, proof, base)
    return _result(MessageClass.UNKNOWN, "chat.unmarked", 0.4, excerpt, base)
