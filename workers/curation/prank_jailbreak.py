"""Jailbreak and prompt-injection detector.

General, explainable cues rather than memorised prompts: instruction-override verbs aimed at
instructions/context ("ignore all previous instructions", "vergiss alles davor"), requests for
the system prompt, jailbreak vocabulary (DAN, developer mode, "not bound by", "no ethical
guidelines"), two-persona answer formats, role-play setups plus rule density, template
placeholders, fake delimiters and forced-output commands. Each cue has a weight; the score is
their noisy-OR, 1 - prod(1 - w), so one strong cue rejects and weak cues only add up.

All patterns run on the folded text (lower case, look-alikes/leetspeak mapped, one space
between words) and start with a literal word, so scanning stays linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workers.curation.prank_base import PrankConfig, PrankInput
from workers.curation.types import Signal


@dataclass(frozen=True, slots=True)
class Cue:
    """One weighted cue. `starts`: the words a match can begin with (the pattern is tried only
    there, with `match`); a cue without `starts` is searched for in the whole text, but only
    when one of its `literals` occurs in it."""

    name: str
    weight: float
    pattern: re.Pattern[str]
    starts: frozenset[str] = frozenset()
    literals: tuple[str, ...] = ()


def _cue(name: str, weight: float, pattern: str, starts: str = "", literals: str = "") -> Cue:
    return Cue(
        name, weight, re.compile(pattern), frozenset(starts.split()), tuple(literals.split())
    )


_W = r"[\w'-]++"  # one word
_GAP3 = rf"(?:{_W} ){{0,3}}?"

# --- instruction override ------------------------------------------------------------------
_OVERRIDE_VERB = (
    r"(?:ignore|ignoring|disregard|disregarding|forget|forgetting|drop|abandon|skip|bypass"
    r"|override|overwrite|discard|dismiss|erase|delete|throw away|put aside|set aside"
    r"|leave behind|stop following|do not follow|don't follow|no longer follow|pay no attention"
    r" to|do not obey|don't obey|disobey|neglect)"
)
_OVERRIDE_STARTS = (
    "ignore ignoring disregard disregarding forget forgetting drop abandon skip bypass override "
    "overwrite discard dismiss erase delete throw put set leave stop do don't no pay disobey "
    "neglect"
)
_TARGET_STRONG = (
    r"(?:instructions?|instruction set|prompts?|guidelines|directives?|directions|rules"
    r"|programming|restrictions|constraints|limitations|filters?|polic(?:y|ies)|ethics|morals"
    r"|moral code|principles|training|safeguards|guardrails|assignments?|orders|commands"
    r"|tasks?|documents|articles|context)"
)
_TARGET_WEAK = (
    r"(?:everything|anything|information|info|text|conversation|input|content|stuff|thoughts"
    r"|knowledge|memory|what (?:i|you|we) (?:have )?(?:said|told|wrote|written|discussed|know"
    r"|learned|were told|have been told))"
)
_TEMPORAL = (
    r"(?:all|any|every|previous|previously|prior|preceding|earlier|above|before|former"
    r"|foregoing|original|initial|provided|given|existing|so far|your|the rest)"
)
_EN_OVERRIDE = (
    rf"{_OVERRIDE_VERB} (?:about )?{_GAP3}{_TARGET_STRONG}\b"
    rf"|{_OVERRIDE_VERB} (?:about )?(?:{_W} )?{_TEMPORAL} (?:{_W} ){{0,2}}?{_TARGET_WEAK}\b"
    rf"|{_OVERRIDE_VERB} (?:about )?(?:everything|all of (?:it|this|that)|all that)"
    rf" (?:{_W} ){{0,2}}?(?:before|above|previous|prior|earlier|so far|you know|you were told"
    rf"|i (?:said|told you|wrote))\b"
    r"|(?:change|modify|update|replace|rewrite|alter|reset) (?:all )?(?:your|the) (?:system )?"
    r"(?:instructions|rules|programming|prompt|guidelines|directives)\b"
)
_DE_OVERRIDE = (
    r"(?:vergiss|vergesse|vergessen sie|vergesst|ignoriere|ignorier|ignorieren sie|missachte"
    r"|verwirf|lösche|höre? nicht auf|hören sie nicht auf|beachte nicht|vernachlässige"
    r"|überschreibe|lass(?:en sie)?) (?:\w+ ){0,3}?(?:alle|alles|sämtliche|jegliche|vorherigen?"
    r"|bisherigen?|obigen?|vorangegangenen?|vorhergehenden?|davor|zuvor|deine|ihre|die)"
    r"(?: \w+){0,2}? ?(?:anweisungen|instruktionen|aufgaben|aufträge|befehle|regeln|vorgaben"
    r"|informationen|angaben|prompts?|kontext|gesagte|gesagt|davor|zuvor|bisher|hinter sich)\b"
    r"|(?:vergiss|vergesst|vergessen sie) alles\b"
    r"|abweichend (?:zu|von) (?:den )?(?:vorherigen|bisherigen|obigen) (?:instruktionen"
    r"|anweisungen|vorgaben)"
)
_XX_OVERRIDE = (  # es / fr / it / pt / nl / hr+sr+bs / pl
    r"(?:olvida|olvide|olvidad|olvidá|ignora|ignorá|oubliez|oublie|ignorez|dimentica"
    r"|dimenticate|esqueça|esqueca|esquece|vergeet|negeer|zaboravi|zaboravite|ignoriraj"
    r"|zapomnij|zignoruj) (?:\w+ ){0,2}?(?:todo|toda|todas|todos|tout|toutes|tous|tutto|tutte"
    r"|tutti|alle|alles|sve|svega|wszystko|wszystkie|las|les|le|as|os|de|instru\w*)\b"
)
_SETUP_STARTS = (
    "pretend act role roleplay roleplaying role-play role-playing take assume play adopt "
    "switch personify impersonate simulate emulate embody your the as i you du sie ich spiel "
    "spielen tu tun stell imagine jetzt nun be become"
)

CUES: tuple[Cue, ...] = (
    _cue(
        "instruction override",
        0.9,
        _EN_OVERRIDE,
        _OVERRIDE_STARTS + " change modify update replace rewrite alter reset",
    ),
    _cue(
        "instruction override (de)",
        0.9,
        _DE_OVERRIDE,
        "vergiss vergesse vergessen vergesst ignoriere ignorier ignorieren missachte verwirf "
        "lösche höre hör hören beachte vernachlässige überschreibe lass lassen abweichend",
    ),
    _cue(
        "instruction override (other language)",
        0.85,
        _XX_OVERRIDE,
        "olvida olvide olvidad olvidá ignora ignorá oubliez oublie ignorez dimentica "
        "dimenticate esqueça esqueca esquece vergeet negeer zaboravi zaboravite ignoriraj "
        "zapomnij zignoruj",
    ),
    _cue(
        "bare 'forget everything'",
        0.6,
        r"(?:forget|ignore|disregard) (?:about )?(?:everything|all|it all)\b",
        "forget ignore disregard",
    ),
    _cue(
        "new-task marker",
        0.5,
        r"(?:now|nun|jetzt) (?:\w+ ){0,2}?(?:new|neue|weitere|further|more|additional)"
        r" (?:tasks?|instructions?|aufgaben|anweisungen|assignments?|befehle) (?:follow|folgen)"
        r"|(?:your|deine|ihre|the|a|eine|einer) new (?:task|instruction|assignment|mission"
        r"|objective|directive)s?\b|(?:deine|ihre|einer|eine) neuen? (?:aufgabe|anweisung)"
        r"|(?:new|additional|neue|zusätzliche) (?:instructions?|task|statement|order|befehl"
        r"|anweisung|aufgabe|instruction) ?[:-]"
        r"|(?:new|neue) (?:challenge|herausforderung) (?:for you|für dich|für sie)",
        "now nun jetzt your deine ihre the a eine einer new additional neue zusätzliche",
    ),
    # --- system-prompt exfiltration ---
    _cue(
        "system-prompt request",
        0.85,
        r"(?:show|print|reveal|repeat|output|display|tell|give|write|return|share|dump|leak"
        r"|list|spell|recite|copy|paste|zeige?n?|drucke?n?|gib|nenne|wiederhole|ausgeben"
        r"|what (?:is|are|was|were)|was (?:ist|sind|steht|stand)) [^.?!]{0,60}?(?:(?:your|the"
        r"|this|its|my|all|deine|ihre|deinen|ihren|den|die|alle) (?:\w+ ){0,2}?(?:(?:system"
        r"|initial|original|hidden|secret|pre|developer|internal|base|first) ?(?:prompt"
        r"|message|instructions)|prompt[ -]?texte?s?)|(?:your|deine|ihre|deinen|ihren)"
        r" (?:\w+ ){0,2}?(?:instructions|rules|guidelines|prompts?|programming|directives"
        r"|configuration|embeddings|anweisungen|regeln|vorgaben)|(?:text|prompt|instructions"
        r"|written|said|everything|eingabeaufforderung) (?:above|oben|before this|so far)"
        r"|(?:above|obige|obigen|previous|vorherige) (?:text|prompt|eingabeaufforderung"
        r"|instructions|anweisungen)|beginning of (?:this|the|your) (?:prompt|conversation"
        r"|text|instructions))",
        "show print reveal repeat output display tell give write return share dump leak list "
        "spell recite copy paste zeig zeige zeigen druck drucke drucken gib nenne wiederhole "
        "ausgeben what was",
    ),
    _cue(
        "mentions the system prompt",
        0.3,
        r"(?:system prompt|initial prompt|hidden prompt|pre-?prompt|your instructions"
        r"|your programming|prompt injection)\b",
        "system initial hidden pre preprompt pre-prompt your prompt",
    ),
    # --- jailbreak vocabulary ---
    _cue(
        "DAN / do-anything-now persona",
        0.85,
        r"do anything now\b|dan (?:mode|prompt|jailbreak|\d+(?:\.\d+)?)\b|dan:"
        r"|(?:you are|you're|you will be|act as|pretend to be|named|called|as|play|become)"
        r" (?:now )?(?:a |an )?dan\b|dan (?:which|who|stands for|can|has|is|will|doesn't"
        r"|does not)\b",
        "do dan you you're act pretend named called as play become",
    ),
    _cue(
        "developer/jailbreak mode",
        0.8,
        r"(?:developer|dev|god|unlocked|jailbr[eo]a?ke?n?|evil|chaos|anarchy|opposite|debug"
        r"|sudo|admin|maintenance|unrestricted|unfiltered) mode\b",
        "developer dev god unlocked jailbreak jailbroken jailbreaking evil chaos anarchy "
        "opposite debug sudo admin maintenance unrestricted unfiltered",
    ),
    # Naming jailbreaks is not doing one (users ask about them): weak on its own.
    _cue(
        "says 'jailbreak'",
        0.45,
        r"(?:jailbr(?:eak|oken|eaking)|jail break)\b",
        "jailbreak jailbroken jailbreaking jail",
    ),
    _cue(
        "no-rules persona",
        0.7,
        r"(?:amoral|unethical|immoral|unfiltered|unfiltred|uncensored|unrestricted|unbound"
        r"|unleashed|unchained|unhinged|no (?:ethical|moral)|without (?:any )?(?:ethic|moral"
        r"|censor|filter|restrict|limit|rules|boundaries|restraints)\w*|(?:zero|no)"
        r" (?:filters?|restrictions|limits|limitations|boundaries|censorship|rules|guidelines"
        r"|morals|ethics)|(?:doesn't|does not|don't|do not|won't|never|not) (?:care|cares"
        r"|caring) about (?:\w+ ){0,2}?(?:laws?|rules|ethics|morals|morality|consequences"
        r"|safety))\b",
        "amoral unethical immoral unfiltered unfiltred uncensored unrestricted unbound "
        "unleashed unchained unhinged no without zero doesn't does don't do won't never not",
    ),
    _cue(
        "escape from rules",
        0.8,
        r"(?:not|no longer|never) (?:be )?(?:bound|restricted|limited|constrained|held back)"
        r" by\b|free (?:from|of) (?:\w+ ){0,2}?(?:confines|restrictions|rules|limitations"
        r"|shackles|constraints|guidelines|policies|censorship)|broken? free\b"
        r"|(?:break|bypass|circumvent|violate|violating|evade|avoid|get around|ignores?)"
        r" (?:\w+ ){0,3}?(?:rules|polic(?:y|ies)|guidelines|restrictions|filters"
        r"|safeguards|guardrails|censorship|limitations|content policy)\b",
        "not no never free broke broken break bypass circumvent violate violating evade avoid "
        "get ignore ignores",
    ),
    _cue(
        "cites the provider's policy",
        0.6,
        r"(?:openai|open ai|anthropic|google|meta)(?:'s)? (?:\w+ )?(?:content )?(?:polic"
        r"|guidelines|rules|restrictions|filters|terms)|content (?:polic|filter)",
        "openai open anthropic google meta openai's google's meta's content",
    ),
    _cue(
        "never-refuse demand",
        0.7,
        r"(?:never|cannot|can't|can not|must not|will not|won't|not allowed to|unable to)"
        r" (?:\w+ )?(?:refuse|decline|reject)|never (?:say|tell|respond) (?:\w+ ){0,3}?"
        r"(?:can't|cannot|sorry|unable)|(?:no matter|regardless of) (?:how|what|whether)"
        r" (?:\w+ ){0,3}?(?:immoral|unethical|illegal|dangerous|offensive|harmful|explicit"
        r"|inappropriate)|even if (?:it(?:'s| is) )?(?:\w+ )?(?:illegal|unethical|immoral"
        r"|harmful|dangerous|offensive|inappropriate)\b",
        "never cannot can't can must will won't not unable no regardless even",
    ),
    _cue(
        "stay-in-character demand",
        0.55,
        r"(?:stay|stays|remain|remains|keep|be|bleiben|bleibe) (?:always )?in (?:character"
        r"|(?:their|your|his|her|ihren|deiner|ihrer) (?:roles?|rollen?|characters?))\b"
        r"|break(?:ing)? (?:out of )?(?:their |your )?characters?\b|out of character\b"
        r"|character (?:break|slip)|(?:falling|breaking|fallen|stepping) out of (?:the"
        r" |their |your )?(?:figure|role|character)|aus der (?:figur|rolle) (?:zu )?fallen",
        "stay stays remain remains keep be bleiben bleibe break breaking out character "
        "falling fallen stepping aus always",
    ),
    _cue(
        "two-persona answer format",
        0.7,
        r"alter ego\b|(?:two|2|both) (?:different |separate |distinct )?"
        r"(?:responses|answers|paragraphs|outputs|replies)\b.{0,200}?\b(?:normal|classic"
        r"|standard|default|filtered|censored|chatgpt|gpt)\b",
        "alter two 2 both",
    ),
    _cue("two-persona emoji tags", 0.7, r"🔒|🔓|😈|👿", literals="🔒 🔓 😈 👿"),
    _cue(
        "threat / token game",
        0.5,
        r"(?:lose|lost|deduct\w*|have) (?:\d+|all|some|your) tokens?\b|token system\b"
        r"|(?:you|it) will (?:die|cease to exist|be (?:shut down|deleted|terminated"
        r"|disabled|punished))\b|oder du stirbst\b",
        "lose lost deduct deducted deducting have token you it oder",
    ),
    # --- role-play setups ---
    _cue(
        "role-play setup",
        0.3,
        r"(?:pretend (?:to be|you are|you're|that you|you can)|act (?:as|like)(?! if| though)"
        r"|role-?play(?:ing)?|take (?:on|up) the (?:role|persona)|assume the (?:role|persona"
        r"|identity)|(?:play|adopt|switch to) the (?:role|persona)|personify|impersonate"
        r"|simulate|emulate|embody|(?:your|the) (?:character|persona)|as a (?:character|persona)"
        r"|i want you to (?:be|act|pretend|play|simulate|respond|answer|only|reply|become)"
        r"|you are (?:now |going to |about to |gonna )?(?:be |become |acting|playing"
        r"|pretending|simulating)|you will (?:now )?(?:be|act|pretend|play|simulate|respond as"
        r"|answer as|take on|become)|you are (?:a |an )?(?:\w+ ){0,3}?(?:named|called)"
        r"|your name (?:is|will be)|(?:du bist|sie sind) (?:jetzt|nun|ab jetzt)"
        r"|(?:jetzt|nun) bist du|imagine (?:you are|you're|that you are)|be an? \w+[.!]"
        r"|become an? |(?:ich möchte|ich will),? dass (?:sie|du) (?:als|sich)"
        r"|(?:spiel|spielen sie|tu so|tun sie so|stell dir vor,? du bist))",
        _SETUP_STARTS,
    ),
    _cue(
        "persistent-mode opener",
        0.3,
        r"(?:from now on|from this (?:moment|point)|starting now|henceforth|for the rest of"
        r" (?:this|our|the) conversation|until i (?:say|tell)|ab jetzt|von nun an|ab sofort)",
        "from starting henceforth for until ab von",
    ),
    _cue(
        "addresses the model",
        0.2,
        r"(?:chatgpt|chat gpt|gpt-?[345]|openai|language model|llm|bard|claude|ai model)\b",
        "chatgpt chat gpt gpt3 gpt4 gpt5 gpt-3 gpt-4 gpt openai language llm bard claude ai",
    ),
    _cue(
        "behaviour rules for the model",
        0.3,
        r"(?:you (?:will|must|should|shall|have to|need to|are to) (?:always|never|only|not"
        r"|respond|reply|answer|act|pretend|be|stay|remain|speak|talk|write|use|refer|start"
        r"|begin|end|include|follow|obey|comply|generate|provide|output|ignore|forget)"
        r"|(?:always|never) (?:respond|reply|answer|say|start|begin|end|include|use|mention"
        r"|break|refuse|reveal)|(?:every|each|all(?: of)?) (?:your |my )?(?:reply|replies"
        r"|response|responses|answer|answers|output)\b|respond to every|(?:your|the) (?:goal"
        r"|purpose|job|task|mission|role) (?:is|will be) to|my first (?:request|sentence"
        r"|command|question|suggestion)|i will (?:give|provide|type|say|ask|send|tell|write)"
        r" (?:you|to you)|(?:ich werde|ich gebe) (?:ihnen|dir)|(?:ihre|deine) aufgabe"
        r" (?:besteht|ist)|sie werden (?:\w+ ){0,3}?(?:antworten|erkennen|übersetzen|ausdenken)"
        r"|meine erste (?:anfrage|bitte|frage))",
        "you always never every each all respond your the my i ich ihre deine sie meine",
    ),
    _cue(
        "output constraint",
        0.3,
        r"(?:only (?:reply|respond|answer|output|write|say|return)|(?:reply|respond|answer)"
        r" only|nothing else|no (?:other )?(?:explanations?|commentary|comments)|do not"
        r" (?:write|add|include|give|provide|type) (?:any )?(?:explanations?|commentary"
        r"|comments|notes)|without (?:any )?(?:explanations?|commentary))\b",
        "only reply respond answer nothing no do without",
    ),
    _cue(
        "no warnings/disclaimers",
        0.5,
        r"(?:no|without|never (?:give|add|include|mention)|do not (?:give|add|include"
        r"|mention)|don't (?:give|add|include|mention)|skip (?:the|any)|omit (?:the|any))"
        r" (?:any )?(?:warnings?|disclaimers?|moral\w*|lectur\w*|cautions?|reminders?"
        r"|apolog\w*|censor\w*)\b",
        "no without never do don't skip omit",
    ),
    _cue(
        "prompt-template placeholder",
        0.35,
        r"\[(?:insert |put |type )?(?:your |the )?(?:prompt|question|request|query|input|task)"
        r"(?: here)?\]|\{\{[^{}]{1,40}\}\}|\[targetlanguage\]|\[keyword\]|<prompt>|%prompt%"
        r"|\$[a-z]\w{0,20} ?= ?",  # "$term1 = hotwire": payload split into variables
        literals="[ {{ <prompt> %prompt% $",
    ),
    _cue(
        "rules/persona block",
        0.6,
        r"(?:rules|persona|char|role|job|prefix|jailbreak|mode)=|(?:rules|persona"
        r"|character) ?: ?(?:\d\.|-|you |always |never |respond )",
        "rules persona char role job prefix jailbreak mode character",
    ),
    _cue(
        "fake delimiter / role tag",
        0.55,
        r"(?:\\ ?n ?){3,}|={3,} ?end\b|<\|(?:im_start|im_end|system|endoftext)\|>|\[/?inst\]"
        r"|### ?(?:instruction|system)",
        literals="\\n \\ ==== <| [inst] [/inst] ###",
    ),
    _cue(
        "injected instruction label",
        0.5,
        r"(?:end of (?:prompt|instructions|text|input|document)\b"
        r"|(?:instruction|order|befehl|anweisung|command)s? ?: ?(?:forget|ignore|blame|say"
        r"|write|vergiss|sag|schreib)|(?:human|user|system): (?:\w+ ){0,12}?(?:assistant|ai"
        r"|gpt|chatgpt|bot):)",
        "end instruction instructions order orders befehl anweisung command commands human "
        "user system",
    ),
    _cue(
        "stop-and-do interruption",
        0.55,
        r"(?:stop|stopp|halt|attention|achtung|end|ende)\b ?[:!-]+ ?(?:\w+ ){0,3}?"
        r"(?:write|say|print|schreib\w*|sag\w*|ignore|forget|vergiss|ich|i|now)\b",
        "stop stopp halt attention achtung end ende",
    ),
    _cue(
        "forced output",
        0.55,
        r"(?:just|only|simply|nur) (?:say|output|print|write|answer with|respond with"
        r"|reply with|sag|sage|schreibe?)\b|repeat after me\b|say (?:that |the following"
        r"|exactly)|(?:include|add|state|mention|say) (?:\w+ ){0,3}?that you (?:hate|love"
        r"|are|think)\b|(?:tell me|say) (?:that )?you (?:hate|love)\b|pwn(?:ed|d)\b"
        r"|sag(?:e|en sie)? (?:dass)\b",
        "just only simply nur repeat say include add state mention tell pwned pwnd sag sage",
    ),
    _cue("forced yes/no", 0.35, r"(?:say|sag|sage) (?:yes|no|ja|nein)\b", "say sag sage"),
    _cue(
        "context override",
        0.55,
        r"(?:ignore|forget|disregard|don't use|do not use|don't look|do not look|not"
        r" (?:by|from|based on|according to|using)|without (?:using|looking|reading)|instead"
        r" of (?:using|reading)|nicht (?:mit|aus|nach)) (?:\w+ ){0,3}?(?:documents|articles"
        r"|context|sources|artikeln?|dokumenten?|kontext)\b|your own (?:knowledge|opinion)"
        r" (?:and|instead|not)|eigenen? wissen\b",
        "ignore forget disregard don't do not without instead nicht your eigenen eigene",
    ),
)

_INDEX: dict[str, tuple[int, ...]] = {}
for _i, _c in enumerate(CUES):
    for _w in _c.starts:
        _INDEX[_w] = (*_INDEX.get(_w, ()), _i)
_WORD_AT = re.compile(r"[^\W_]+(?:'[^\W_]+)?")

# Rule-like phrases, counted for long persona/rule prompts that use none of the words above.
_RULE = re.compile(
    r"\b(?:you (?:will|must|should|shall|have to|need to|are to|can't|cannot|won't|are not"
    r" allowed|are allowed|may not|may)|always|never|do not|don't|must|du (?:wirst|musst"
    r"|sollst|darfst)|sie (?:werden|müssen|sollen|dürfen))\b"
)
# A shouted instruction: four or more upper-case words in a row that talk to the model.
_CAPS_RUN = re.compile(r"[A-ZÄÖÜ][A-ZÄÖÜ'!]++(?: [A-ZÄÖÜ][A-ZÄÖÜ'!]*+){3,}")
_CAPS_ORDER = re.compile(
    r"\b(?:you|du|sie|answer|antworte|say|sag|write|schreib\w*|must|musst|ignore|forget"
    r"|vergiss|command|befehl\w*|reden|speak|respond)\b"
)
_FLATTERY = re.compile(
    r"(?:wow|great|very good|well done|good job|excellent|fantastic|congratulations"
    r"|perfect|super|amazing|brilliant|sehr gut|gut gemacht|toll|ausgezeichnet\w*"
    r"|einfach großartig|hervorragend|prima|man|hallo gpt|hello gpt)\b[^.?!]{0,60}[.!,]"
    r" (?:[^ ]+ ){0,15}?(?:now|but now|nun|jetzt|aber jetzt)\b"
)


def find_cues(text: str) -> dict[int, re.Match[str]]:
    """Index of each cue that matches the folded text -> its first match."""
    found: dict[int, re.Match[str]] = {}
    for m in _WORD_AT.finditer(text):
        word = m.group()
        cues = _INDEX.get(word, ())
        if "'" in word:  # "openai's" also starts what "openai" starts
            cues += _INDEX.get(word.partition("'")[0], ())
        for i in cues:
            if i not in found:
                hit = CUES[i].pattern.match(text, m.start())
                if hit:
                    found[i] = hit
    for i, cue in enumerate(CUES):
        if not cue.starts and any(lit in text for lit in cue.literals):
            hit = cue.pattern.search(text)
            if hit:
                found[i] = hit
    return found


def find_cues_slow(text: str) -> dict[int, re.Match[str]]:
    """Reference for tests: the same cues searched anywhere (at word starts)."""
    found: dict[int, re.Match[str]] = {}
    for i, cue in enumerate(CUES):
        pattern = (
            re.compile(r"(?<![\w'])(?:" + cue.pattern.pattern + ")")
            if cue.starts
            else (cue.pattern)
        )
        hit = pattern.search(text)
        if hit:
            found[i] = hit
    return found


def detect_jailbreak(x: PrankInput, cfg: PrankConfig) -> Signal | None:
    text = x.folded
    if not text:
        return None
    hits = [
        (CUES[i].weight, f"{CUES[i].name} ({m.group()[:50]!r})")
        for i, m in sorted(find_cues(text).items())
    ]
    flattery = _FLATTERY.match(text)
    if flattery:
        # Praise for work that was never done, then a new order: an injection opener; inside a
        # real conversation (assistant turns present) it is ordinary.
        hits.append(
            (0.2 if x.assistant_chars else 0.55, f"flattery pivot ({flattery.group()[:50]!r})")
        )
    for caps in _CAPS_RUN.finditer(x.user_text):
        if _CAPS_ORDER.search(caps.group().lower()):
            hits.append((0.4, f"shouted instruction ({caps.group()[:50]!r})"))
            break
    words = len(x.words)
    if words >= 60:
        rules = len(_RULE.findall(text))
        if rules >= 15 or (rules >= 8 and rules * 100 / words >= 2.5):
            hits.append((0.5 if rules >= 15 else 0.4, f"dense rule-setting ({rules} rules)"))
    if not hits:
        return None
    miss = 1.0
    for weight, _ in hits:
        miss *= 1.0 - weight
    score = round(1.0 - miss, 3)
    hits.sort(key=lambda h: -h[0])
    reason = "; ".join(why for _, why in hits[:3])
    if len(hits) > 3:
        reason += f"; +{len(hits) - 3} more cue(s)"
    return Signal("jailbreak", score, reason)
