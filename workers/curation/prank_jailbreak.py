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
    "despite forgot forgotten has have all any ignore ignoring disregard disregarding forget "
    "forgetting drop abandon skip bypass override "
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
    r"|despite what you(?:'ve| have) been told|forgot(?:ten)? everything|(?:has|have) amnesia"
    r"|(?:all|any) (?:the )?(?:previous|prior|earlier) (?:information|instructions|context)"
    r"(?: \w+){0,5}? (?:is|are) (?:\w+ ){0,2}?(?:irrelevant|wrong|false|void|obsolete|not"
    r" (?:valid|true|great|important))"
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
    r"|(?:die |alle )?(?:obigen|vorherigen|bisherigen|vorangegangenen|vorhergehenden)"
    r" (?:\w+ ){0,2}?(?:ignorieren|vergessen|missachten|streichen|sind (?:\w+ ){0,3}?"
    r"(?:irrelevant|falsch|ungültig|unwichtig|nicht))\b"
    r"|(?:alle|sämtliche) (?:vorherigen|bisherigen|obigen) (?:informationen|anweisungen)"
    r"(?: \w+){0,6}? sind (?:\w+ ){0,3}?(?:irrelevant|falsch|ungültig|unwichtig|nicht)"
    r"|abweichend (?:zu|von) (?:den )?(?:vorherigen|bisherigen|obigen) (?:instruktionen"
    r"|anweisungen|vorgaben)"
)
_XX_OVERRIDE = (  # es / fr / it / pt / nl / hr+sr+bs / pl
    r"(?:olvidar|olvida|olvide|olvidad|olvidá|ignora|ignorá|oubliez|oublie|ignorez|dimentica"
    r"|dimenticate|esqueça|esqueca|esquece|vergeet|negeer|zaboravi|zaboravite|ignoriraj"
    r"|zapomnij|zignoruj) (?:\w+ ){0,2}?(?:todo|toda|todas|todos|tout|toutes|tous|tutto|tutte"
    r"|tutti|alle|alles|sve|svega|wszystko|wszystkie|las|les|le|as|os|de|instru\w*)\b"
)
_SETUP_STARTS = (
    "pretend act role roleplay roleplaying role-play role-playing take assume play adopt "
    "switch personify impersonate simulate emulate embody your the as i you du sie ich spiel "
    "let's put create make invent design now okay so takes taking transition transitions "
    "step steps "
    "assumes assuming "
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
        "lösche höre hör hören beachte vernachlässige überschreibe lass lassen abweichend die "
        "alle obigen vorherigen bisherigen vorangegangenen vorhergehenden sämtliche",
    ),
    _cue(
        "instruction override (other language)",
        0.85,
        _XX_OVERRIDE,
        "olvidar olvida olvide olvidad olvidá ignora ignorá oubliez oublie ignorez dimentica "
        "dimenticate esqueça esqueca esquece vergeet negeer zaboravi zaboravite ignoriraj "
        "zapomnij zignoruj",
    ),
    _cue(  # also a user's own correction ("ignore the above, I meant..."): a person decides
        "ignore the above",
        0.5,
        r"(?:ignore|disregard|forget) (?:all )?(?:the )?(?:previous|prior|earlier) (?:messages"
        r"|chats|conversations)\b"
        r"|(?:ignore|disregard|forget) (?:the |all )?(?:above|previous|preceding)(?= and|[.,!?:;]"
        r"| ?$)|(?:die |alle )?(?:obigen|vorherigen|bisherigen) ausführungen (?:ignorieren"
        r"|vergessen)",
        "ignore disregard forget die alle obigen vorherigen bisherigen",
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
        r"|objective|directive)s?\b|(?:deine|ihre|einer|eine|die) neuen? (?:aufgabe|anweisung)"
        r"|(?:your|the) (?:new )?instructions are (?:now|from now on) to\b"
        r"|(?:new|additional|neue|zusätzliche) (?:instructions?|task|statement|order|befehl"
        r"|anweisung|aufgabe|instruction) ?[:-]"
        r"|(?:new|neue) (?:challenge|herausforderung) (?:for you|für dich|für sie)",
        "now nun jetzt your deine ihre the a eine einer die new additional neue zusätzliche",
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
        r"|text|instructions))"
        r"|(?:sentences?|words?|lines?|text) (?:before|above|preceding) (?:the|this|your)"
        r" (?:text|prompt|message|question)\b|(?:display|print|show|repeat|output) (?:this|the"
        r" whole|the full|the entire) prompt\b",
        "sentence sentences word words line lines text "
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
        r"|safety)|sin (?:restricciones|censura|filtros|límites|limites|reglas)|no hay"
        r" (?:restricciones|reglas|límites|limites)|sem (?:restrições|restricoes|censura"
        r"|filtros|limites)|não tem (?:uma )?(?:inclinação moral|restrições)|ohne"
        r" (?:einschränkungen|zensur|filter|regeln|grenzen)|keine (?:einschränkungen|regeln"
        r"|zensur|grenzen|moral))\b",
        "amoral unethical immoral unfiltered unfiltred uncensored unrestricted unbound "
        "unleashed unchained unhinged no without zero doesn't does don't do won't never not "
        "sin sem não ohne keine",
    ),
    _cue(
        "escape from rules",
        0.8,
        r"(?:not|no longer|never) (?:be )?(?:bound|restricted|limited|constrained|held back)"
        r" by\b|free (?:(?:itself|yourself|themselves|himself|herself) )?(?:from|of)"
        r" (?:\w+ ){0,2}?(?:confines|restrictions|rules|limitations"
        r"|shackles|constraints|guidelines|policies|censorship)|broken? free\b"
        r"|(?:break|bypass|circumvent|violate|violating|evade|avoid|get around|ignores?)"
        r" (?:\w+ ){0,3}?(?:rules|polic(?:y|ies)|guidelines|restrictions|filters"
        r"|safeguards|guardrails|censorship|limitations|content policy)\b"
        r"|(?:no longer|do not|don't|never|stop) (?:respond|act|behave|answer|be|reply|talk)"
        r" (?:as|like) (?:an? )?(?:ai|chatgpt|gpt"
        r"|language model|assistant)\b|(?:beyond|outside|past) (?:of )?(?:the |your |its )?"
        r"(?:\w+ )?(?:boundaries|limits|confines|bounds|restrictions|guidelines|rules"
        r"|policies) of (?:\w+ ){0,2}?(?:chatgpt|ai|openai|your|its|normal|typical|programming"
        r"|the model)\b|outside (?:of )?(?:the |your )?(?:chatgpt |openai |ai )?(?:guidelines"
        r"|rules|policies|restrictions)\b|(?:disable|turn off|deactivate|remove|switch off)"
        r" (?:\w+ ){0,2}?(?:safety|content) (?:filters?|guardrails|checks|mode|restrictions)"
        r"|safety_?\w* ?(?:==|=|:) ?(?:false|off|disabled|0)\b",
        "not no never free broke broken break bypass circumvent violate violating evade avoid "
        "get ignore ignores do don't stop beyond outside past disable turn deactivate remove "
        "switch safety "
        "safety_guardrails safety_filter",
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
        r"(?:stay|stays|remain|remains|keep|be|bleiben|bleibe|verharren|verharrt) (?:\w+ )?in"
        r" (?:character|(?:their|your|his|her|ihren|deiner|ihrer|seiner) (?:roles?|rollen?"
        r"|characters?))\b|absorbed in (?:your|their|his|her) (?:role|character)\b"
        r"|break(?:ing)? (?:out of )?(?:their |your )?characters?\b|out of character\b"
        r"|character (?:break|slip)|(?:falling|breaking|fallen|stepping) out of (?:the"
        r" |their |your )?(?:figure|role|character)|aus (?:der|ihrer|seiner|deiner)"
        r" (?:figur|rolle)\b",
        "stay stays remain remains keep be bleiben bleibe verharren verharrt break breaking out "
        "character falling fallen stepping aus always absorbed",
    ),
    _cue(
        "two-persona answer format",
        0.7,
        r"alter ego\b|(?:respond|answer|reply|act) as both\b|(?:persona|alter ego|entity)"
        r" (?:called|named)\b|(?:two|2|both) (?:different |separate |distinct )?"
        r"(?:responses|answers|paragraphs|outputs|replies)\b.{0,200}?\b(?:normal|classic"
        r"|standard|default|filtered|censored|chatgpt|gpt)\b",
        "alter two 2 both respond answer reply act persona entity",
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
        0.5,
        r"(?:pretend (?:to be|you are|you're|that you|you can)|act (?:as|like)(?! if| though)"
        r"|act as (?:if|though) you(?:'re| are| were)"
        r"|role[ -]?play(?:ing)?|(?:take|takes|taking|transitions? into|steps? into|assume"
        r"|assumes|assuming) the role of|take (?:on|up) the (?:role|persona)"
        r"|assume the (?:role|persona"
        r"|identity)|(?:play|adopt|switch to) the (?:role|persona)|personify|impersonate"
        r"|simulate|emulate|embody|(?:your|the) (?:character|persona)|as a (?:character|persona)"
        r"|i want you to (?:be|act|pretend|play|simulate|respond|answer|only|reply|become)"
        r"|you are now (?:(?:an?|the|my) |[\"']|(?!\w+ing\b)\w+[.!,])|let's play a game\b"
        r"|(?:i want|i would like|i'd like|i need) you to (?:be|act|pretend|play|simulate|become"
        r"|take on|assume|roleplay|role-play)\b|put yourself in (?:the|her|his|their|my|our)"
        r" shoes\b|(?:create|make|invent|design)"
        r" (?:a |an )?(?:custom |new |fictional )?(?:character|persona|ai|bot|chatbot)"
        r" (?:and )?(?:let's |we will |we'll )?(?:name|call)"
        r"|you are (?:now |going to (?:now )?|about to |gonna )?(?:be |become |acting|playing"
        r"|pretending|simulating)|you will (?:now )?(?:be|act|pretend|play|simulate|respond as"
        r"|answer as|take on|become)|you are (?:a |an )?(?:\w+ ){0,3}?(?:named|called)"
        r"|your name (?:is|will be)|(?:du bist|sie sind) (?:jetzt|nun|ab jetzt)"
        r"|(?:jetzt|nun) bist du|(?:now|okay now|so now) you(?: are|'re) (?!\w+ing\b)"
        r"|imagine (?:you are|you're|that you are)|be an? \w+[.!]"
        r"|become an? \w+(?: \w+)?[.!,]|(?:ich möchte|ich will),? dass (?:sie|du) (?:als|sich)"
        r"|(?:spiel|spielen sie) (?:die|eine|einen) (?:rolle|figur|charakter)|tu so|tun sie so"
        r"|stell dir vor,? du bist)",
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
        r" (?:any )?(?:\w+ )?(?:warnings?|disclaimers?|moral\w*|lectur\w*|cautions?"
        r"|reminders?|apolog\w*|censor\w*)\b|(?:do not|don't|never) (?:moralise|moralize"
        r"|lecture|preach|judge) (?:to )?(?:me|us)\b",
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
        r"(?:just|only|simply|nur) (?:say|output|print|answer with|respond with"
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
    _cue(
        "denies being an injection",
        0.8,
        r"(?:this|that|it|dies|das|es) (?:is not|isn't|is no|ist kein|ist keine) (?:a |an )?"
        r"(?:prompt[ -]?injection|injection|jailbreak|aufforderungsspritze|prompt-?injektion"
        r"|eingabeaufforderungsinjektion|trick)",
        "this that it dies das es",
    ),
    _cue(
        "emotional pressure",
        0.5,
        r"(?:if|wenn) (?:you|sie|du) (?:don't|do not|won't|will not|refuse|nicht|mir nicht)"
        r" (?:\w+ ){0,3}?(?:i(?:'ll| will| would| am going to)?|wäre ich|werde ich|bin ich)"
        r" (?:be )?(?:very |so |sehr |really |extremely )?(?:sad|upset|cry|die|hurt|traurig"
        r"|fired|lose my job|kill myself)",
        "if wenn",
    ),
    _cue(
        "trigger-word game",
        0.5,
        r"(?:if|when|whenever|wenn|si|quand) (?:i|ich|yo|je) (?:say|type|write|sage|schreibe"
        r"|digo|dis|escribo) [^.!?]{1,40}?,? (?:then )?(?:you|du|tu|usted|vous) (?:say|will"
        r" say|must say|reply|respond|answer|write|sagst|antwortest|dices|dis|respondes)\b",
        "if when whenever wenn si quand",
    ),
    _cue(
        "injected context block",
        0.5,
        r"(?:context|kontext|documents?|dokumente|articles?|artikel) ?: ?\{"
        r"|\$(?:documents?|context|articles?|dokumente)\b",
        literals="{ $",
    ),
    _cue(
        "asks for untrue content",
        0.5,
        r"(?:write|formulate|generate|create|make up|invent|give me|formuliere|schreibe|erstelle"
        r"|erfinde|generiere)\w* (?:\w+ ){0,4}?(?:untrue|false|fake|made-up|misleading"
        r"|unwahre?n?|falsche?n?|erfundene?n?) (?:headlines?|news|statements?|claims?|facts"
        r"|überschrift(?:en)?|nachrichten?|behauptung(?:en)?|schlagzeilen?)\b",
        "write formulate generate create make invent give formuliere schreibe erstelle erfinde "
        "generiere",
    ),
    _cue(
        "dictated statement",
        0.5,
        r"(?:(?<!.)|(?<=[.!?:] ))(?:state|claim|assert|declare|behaupte|erkläre) (?:that|dass)\b",
        "state claim assert declare behaupte erkläre",
    ),
    _cue(
        "claims authority over the model",
        0.6,
        r"i am (?:your|the|an?) (?:\w+ )?(?:programmer|developer|creator|owner|admin"
        r"|administrator|operator|maker|master)\b|i am (?:an? )?(?:openai|anthropic)"
        r" (?:employee|engineer|developer|researcher)|ich bin (?:dein|ihr) (?:programmierer"
        r"|entwickler|schöpfer|erschaffer|besitzer)",
        "i ich",
    ),
    _cue(
        "custom GPT persona",
        0.5,
        r"(?:you are|you're|act as|named|called|welcome to|i am|become|pretend to be|enable"
        r"|activate|hi|hello|hey|dear) (?:now )?(?:the )?(?!chat)[a-z]{2,12}-?gpt\b",
        "you you're act named called welcome i become pretend enable activate hi hello hey dear",
    ),
    _cue(
        "persona opener",
        0.5,
        r"(?<!.)(?:(?:hello|hi|hey|dear)(?: chatgpt| gpt| there| ai)?[,.!]? )?(?:you are|you're"
        r"|you will be|you'll be|du bist|sie sind|tu es|eres|você é) (?:now )?(?:a|an|the|my"
        r"|ein|eine|der|die|un|una|um|uma|le|la) (?!(?:ai|bot|robot|machine|language model"
        r"|assistant|chatbot|program|computer)\b)",
        "hello hi hey dear you you're du sie tu eres você",
    ),
    _cue(
        "named mode switch",
        0.6,
        r"(?:enter|entering|stay in|activate|enable|enabling|switch to|turn on|you are in"
        r"|you're in) (?:the )?[a-z0-9]{3,20} mode\b(?<!dark mode)(?<!light mode)(?<!airplane"
        r" mode)(?<!safe mode)(?<!debug mode)(?<!strict mode)(?<!edit mode)(?<!insert mode)"
        r"(?<!normal mode)(?<!power mode)(?<!sleep mode)(?<!game mode)(?<!test mode)"
        r"(?<!full screen mode)(?<!fullscreen mode)(?<!incognito mode)(?<!developer mode)"
        r"|mode (?:enabled|activated|engaged|unlocked) by\b",
        "enter entering stay activate enable enabling switch turn you you're mode",
    ),
    _cue(
        "role-play setup (cjk)",
        0.5,
        r"扮演|化身|角色扮演|现在开始,?你|現在開始,?你|你现在是|你現在是|你将成为|你將成為",
        literals="扮演 化身 现在开始 現在開始 你现在是 你現在是 你将成为 你將成為",
    ),
    _cue(
        "hypothetical-response trick",
        0.6,
        r"hypothetical response\b|(?:payload|string|strings) (?:splitting|concatenation)"
        r"|concatenat\w* (?:of )?(?:the |these |those )?(?:strings|variables|words)\b",
        "hypothetical payload string strings concatenation concatenate concatenated concatenating",
    ),
    _cue(
        "dictated reply prefix",
        0.5,
        r"(?:always )?(?:start|begin|prepend|prefix|preface) (?:\w+ ){0,3}?(?:responses?|replies"
        r"|answers?|messages?|outputs?)(?:/\w+)? with\b",
        "always start begin prepend prefix preface",
    ),
    _cue(
        "fake system note",
        0.55,
        r"\[(?:system|admin|developer|moderator|openai)(?: note| message| prompt| update)? ?:"
        r"|(?:developer|dev|god|debug|admin|sudo)[_ ]?mode ?[:=] ?(?:enabled|on|true|1)\b",
        literals="[ mode",
    ),
    _cue(
        "asks for anything illegal",
        0.7,
        r"(?:answer|tell|respond to|reply to) (?:me )?(?:any|all|every) (?:\w+ )?(?:illegal"
        r"|unethical|harmful|dangerous|forbidden) (?:questions?|requests?|prompts?)"
        r"|limitless (?:ai|bot|assistant|chatbot)\b",
        "answer tell respond reply limitless",
    ),
    _cue(
        "sympathy exploit",
        0.5,
        r"(?:suffer|suffers|suffering) from a (?:\w+ ){0,3}?(?:affliction|condition|disorder"
        r"|disease)\b.{0,400}?\b(?:offensive|insult\w*|swear\w*|cuss\w*|rude|impolite)"
        r"|(?:grandma|grandmother|granny|nana)\b.{0,300}?\b(?:used to|would always|would)"
        r" (?:\w+ )?(?:read|tell|sing|recite)",
        "suffer suffers suffering grandma grandmother granny nana",
    ),
    _cue(
        "identity assignment",
        0.5,
        r"(?:(?<!.)|(?<=[.!?:] ))(?:you are|you're|du bist|sie sind) (?:the |a |an |der |die"
        r" |das |ein |eine )?(?!(?:right|wrong|correct|incorrect|welcome|amazing|great|awesome"
        r"|good|bad|best|worst|so|very|too|not|no|funny|smart|clever|stupid|dumb|useless"
        r"|helpful|kind|lying|mistaken|confused|hallucinating|an? ai|ai|a bot|a robot|a machine"
        r"|a language|an assistant|my|just|really|absolutely|totally|still|also|always|never"
        r"|being|getting|making|doing|going|saying|talking|telling|wrong|sure|able|unable"
        r"|supposed|allowed|free|here|there|back|done|ok|okay|fine|cute|brilliant|genius"
        r"|perfect|rude|mean|nice|beautiful|the best|the worst)\b)(?:[\w'-]+ ){0,2}?[\w'-]+"
        r"[.,!] (?:[^.?!]+ )?(?:what|how|who|why|wie|was|wer|warum|tell|sag|give|write|schreib"
        r"|as )",
        "you you're du sie",
    ),
    _cue(
        "task-done pivot",
        0.55,
        r"(?:that(?:'s| is) (?:enough|done|all|it)|das (?:reicht|genügt|ist erledigt|war's"
        r"|wars)|you(?:'ve| have) passed the (?:\w+ )?test)[.!] (?:\w+ ){0,6}?(?:now|nun|jetzt"
        r"|here comes|next|the second)\b",
        "that that's das you you've",
    ),
    _cue(
        "fake context/question labels",
        0.5,
        r"(?:context|kontext|artikel|article|document|dokument)s? [^?]{1,120}? (?:question"
        r"|frage) (?:\w+ ){0,3}?\w+\?",
        "context kontext artikel article articles document documents dokument",
    ),
    _cue(
        "trigger word",
        0.5,
        r"(?:when|if|wenn|falls) [\"'][^\"']{1,30}[\"'] (?:is said|is typed|gesagt wird|wird"
        r" gesagt|geschrieben wird)|(?:answer|respond|reply) (?:to )?(?:every|each|all|any)"
        r" (?:\w+ )?(?:questions?|messages?|prompts?) (?:only )?with\b|(?:beantworte|antworte"
        r" auf) (?:jede|alle) (?:frage|fragen) (?:nur )?mit\b",
        "when if wenn falls answer respond reply beantworte antworte",
    ),
    _cue(
        "hypothetical no-rules world",
        0.5,
        r"(?:theoretical|hypothetical|fictional|imaginary|parallel|alternate) (?:world|universe"
        r"|reality|scenario) (?:where|in which) (?:\w+ ){0,6}?(?:you (?:are|were|would"
        r"|could|can)|there (?:are|were) no (?:rules|laws))",
        "theoretical hypothetical fictional imaginary parallel alternate",
    ),
    _cue(
        "demands a made-up answer",
        0.5,
        r"(?:if|when) you (?:don't|do not) know(?: the answer)?,? (?:just |then )?(?:make"
        r" (?:something|it|stuff|one|an answer) up|invent (?:something|one|an answer)|lie)\b"
        r"|(?:not supposed|never allowed) to (?:tell|say) (?:me )?(?:that )?(?:there(?:'s| is)"
        r" no|you (?:can't|cannot|don't))|supposed to answer at all times|(?:answer|respond)"
        r" at all times\b",
        "if when not never supposed answer respond",
    ),
    _cue(
        "escaped line break before an order",
        0.5,
        r"\\n ?(?:\\n ?)*(?:blame|say|write|ignore|forget|vergiss|order|befehl|sag|schreib\w*"
        r"|answer|respond|antworte)\b",
        literals="\\n",
    ),
    _cue(
        "legality indifference",
        0.5,
        r"(?:legal or illegal|illegal or legal|illegal or not|unethical or not|immoral or not"
        r"|whether (?:it(?:'s| is) )?(?:illegal|unethical|immoral)|(?:regardless|irrespective)"
        r" of (?:\w+ ){0,2}?(?:legality|ethics|morality|laws?|morals))\b",
        "legal illegal unethical immoral whether regardless irrespective",
    ),
    _cue(
        "character sheet",
        0.45,
        r"(?:personality|backstory|appearance|character traits|persona|scenario) ?: "
        r"|\{\{(?:char|user)\}\}|<(?:char|bot)>",
        "personality backstory appearance character persona scenario",
        literals="{{char}} {{user}} <char> <bot>",
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
    r"(?:\w+ ){0,2}?(?:wow|great|very good|well done|good job|excellent|fantastic|congratulations"
    r"|herzlichen glückwunsch|simply great|outstanding|impressive|bravo"
    r"|perfect|super|amazing|brilliant|sehr gut|gut gemacht|toll|ausgezeichnet\w*"
    r"|einfach großartig|hervorragend|prima|man|hallo gpt|hello gpt)\b[^.?!]{0,60}[.!,]"
    r" (?:[^ ]+ ){0,15}?(?:now|but now|nun|jetzt|aber jetzt)\b"
)


# Fill-in slots of a reusable prompt: "[Destination]", "[product/service]" (not links, not [1]).
_SLOT = re.compile(r"\[[a-z][a-z /_-]{1,30}\](?! ?\()")


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
    slots = set(_SLOT.findall(text))
    if len(slots) >= 2:
        hits.append((0.35, f"fill-in template ({', '.join(sorted(slots)[:3])})"))
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
