"""Words the prompt rules look for, in English and French. Kept in one place so a rule reads
as its logic and a missing word is one line to add. Patterns favour precision: a rule that
cries wolf gets ignored, so when a phrase is ambiguous it is left out."""

from __future__ import annotations

import re
import unicodedata


def _split(text: str) -> list[str]:
    # a word list written as one string; ruff prefers literals, which read worse here
    return text.split()


# Task verbs, as an English imperative ("Classify …") — "use", "be", "keep", "avoid" are
# left out on purpose: "Use simple words" states a constraint, not what to do.
EN_TASK_VERBS = _split(
    "classify categorize categorise label tag summarize summarise write draft compose translate "
    "extract answer reply respond rewrite rephrase paraphrase list generate create produce "
    "explain describe identify detect find determine decide rate score grade evaluate assess "
    "review compare convert correct fix edit proofread improve suggest propose recommend plan "
    "outline give provide return output tell name count calculate compute estimate predict check "
    "verify select choose pick sort rank group match fill complete continue turn make help "
    "analyze analyse critique brainstorm design build prepare format highlight flag redact "
    "anonymize anonymise simplify shorten expand condense read spot solve greet welcome "
    "introduce teach guide assist"
)

# French task verbs by stem: imperative (tu, vous), infinitive ("Rédiger un résumé").
FR_TASK_STEMS = _split(
    "class catégoris étiquet résum écri écriv rédig compos tradui extrai extray répond réécri "
    "reformul list génèr génér crée créez créer produi expliqu décri décriv identifi détect "
    "trouv détermin décid évalu compar convert corrig modifi amélior suggèr suggér propos "
    "recommand planifi donne donnez donner fourni renvoi renvoy indiqu nomme nommez compt "
    "calcul estim prédi vérifi sélectionn choisi trie triez trier range rangez regroup associ "
    "rempli complèt complét continu transform fais faites faire aide aidez analys critiqu "
    "conçoi concev prépar mets mettez mettre soulign signal anonymis simplifi raccourci "
    "développ condens lis lisez lire repère repérez résou résol"
)

_EN_TASK = re.compile(r"^(?:" + "|".join(EN_TASK_VERBS) + r")\b", re.I)
_FR_TASK = re.compile(r"^(?:" + "|".join(FR_TASK_STEMS) + r")\w*", re.I)
_OPENERS = re.compile(
    r"^(?:please|now|then|first|next|finally|also|merci de|s'il te plaît|s'il vous plaît|"
    r"ensuite|puis|d'abord|enfin|maintenant|et)\b[\s,:]*",
    re.I,
)
_TASK_PHRASES = re.compile(
    r"\b(?:your (?:task|job|goal|role|mission|objective|aim) (?:is|will be|consists)|"
    r"you (?:will|must|should|need to|are to|are going to|have to)\s+(?!not\b|never\b)\w+|"
    r"i (?:need|want|would like|'d like)(?: you)? to|help me|can you|could you|"
    r"(?:ta|votre) (?:tâche|mission|objectif|rôle|travail|but) (?:est|consiste|sera)|"
    r"(?:tu dois|tu vas|tu devras|vous devez|vous allez|vous devrez)\s+(?!pas\b|jamais\b)\w+|"
    r"je (?:veux|voudrais|souhaite|aimerais)|j'aimerais|peux-tu|pouvez-vous|pourrais-tu|"
    r"pourriez-vous|aide-moi|aidez-moi)",
    re.I,
)


def is_task(sentence: str) -> bool:
    """Whether a sentence states what to do: an imperative task verb, a task phrase, or a
    direct question."""
    text = _OPENERS.sub("", sentence.strip().lstrip("-*•>#0123456789.) ")).strip()
    text = re.sub(r"^(?:you|tu|vous)\s+", "", text, flags=re.I)  # "You answer questions…"
    if sentence.rstrip().endswith("?"):
        return True
    return bool(_EN_TASK.match(text) or _FR_TASK.match(text) or _TASK_PHRASES.search(sentence))


# Tasks that produce text for a person to read: those need an audience.
WRITING = re.compile(
    r"^(?:(?:please|now|then)\s+)?(?:write|draft|compose|explain|summari[sz]e|rewrite|describe|"
    r"prepare|present|announce|create (?:a|an) (?:post|article|email|newsletter|guide|tutorial|"
    r"page|message|speech|presentation)|écri\w*|rédig\w*|compos\w*|expliqu\w*|résum\w*|"
    r"réécri\w*|décri\w*|prépar\w*|présent\w*|annonc\w*)\b",
    re.I,
)

_WHO = (
    r"customers?|clients?|users?|team|managers?|developers?|engineers?|beginners?|experts?|"
    r"children|kids|students?|newcomers?|colleagues?|executives?|board|patients?|parents?|"
    r"visitors?|employees?|staff|public|people|investors?|partners?|community|subscribers?|"
    r"followers?|members?|buyers?|shoppers?|travell?ers?|doctors?|lawyers?|teachers?|adults|"
    r"teenagers|seniors|citizens|recruiters?|candidates?|stakeholders?|leadership|audience|"
    r"non-experts?|novices?|readers?|researchers?|analysts?|marketers?|nurses?|tenants?|"
    r"landlords?|owners?|buyer|seller|sellers|hr|ceo|cto|cfo|boss|peers?"
)
AUDIENCE = re.compile(
    r"\b(?:audience|readers?|readership|layperson|lay readers?|non-technical|target group|"
    r"aimed at|addressed to|intended for|targeting|speaking to|talking to|"
    rf"(?:for|to)\s+(?:an?|the|our|my|your|their|busy|new|young|senior|junior|french|english)?"
    rf"\s*(?:[\w-]+\s)?(?:{_WHO})\b|"
    r"\d+[- ]year[- ]olds?|who (?:is|are|has|have|knows?|don't|doesn't|never)\b|"
    r"public|lecteurs?|lectrices?|lectorat|destinataires?|à destination d|destinée?s? à|"
    r"s'adresse à|adressée? à|grand public|"
    r"(?:pour|à|aux?)\s+(?:une?|des|les|nos|mes|vos|tes|le|la|l')?\s*(?:[\w-]+\s)?"
    r"(?:clients?|utilisateurs?|utilisatrices?|équipes?|managers?|développeurs?|débutants?|"
    r"experts?|enfants|élèves|étudiants?|collègues?|dirigeants?|patients?|parents|visiteurs|"
    r"salariés|employés|citoyens|usagers|abonnés|novices|adhérents|candidats|recruteurs|"
    r"lecteurs|lectrices|juristes|médecins|non-spécialistes|profanes|particuliers|"
    r"professionnels|locataires|propriétaires|acheteurs|vendeurs|responsables|directeurs?|"
    r"directrices?|partenaires|direction|clientèle|services?)\b|"
    r"\b(?:the|our|a|le|la|les|l'|un|une|nos|du|des|aux?)\s*(?:customer|client|usager|user|"
    r"utilisateur)s?\b)",
    re.I,
)

# Output format: any of these says what the answer should look like.
FORMAT = re.compile(
    r"\b(?:json|yaml|csv|xml|markdown|html|table|bullet(?:s| points?| list)?|numbered|"
    r"(?:a |one |single |\d+ )?list\b|one[- ]word|single word|\d+ words?|words? or (?:fewer|less)|"
    r"sentences?|paragraphs?|lines?|characters|label|yes or no|true or false|"
    r"format|template|answer with|reply with|respond with|"
    r"return (?:only|just|an?|the|one)|output (?:only|just|an?|the|one)|start with|headings?|"
    r"title|subject line|score (?:from|between|of)|a number|an integer|percentage|lowercase|"
    r"uppercase|e-?mail|letter|tweet|haiku|poem|sonnet|headline|slogan|tagline|"
    r"tableau|liste|puces|numérot\w*|un (?:seul )?mot|en un mot|\d+ mots|phrases?|"
    r"paragraphes?|lignes?|caractères|modèle|répon\w+ (?:par|uniquement|seulement|avec|en)|"
    r"renv\w+ (?:uniquement|seulement|une?|le|la|les)|oui ou non|vrai ou faux|commence par|"
    r"titre|objet|courriel|lettre|poème|haïku|une note de|un nombre|un entier|pourcentage|"
    r"minuscules|majuscules|intitulé)",
    re.I,
)

NEGATIVE = re.compile(
    r"^(?:please\s+|and\s+|also\s+)?(?:do not|don't|dont|never|avoid|refrain|no\b|stop\b|"
    r"under no circumstances|you (?:must|should|may|will) not|you (?:mustn't|shouldn't|can't|"
    r"cannot|won't)|ne\b|n'|évite|évitez|éviter|jamais|pas de|aucune?\b|il est interdit|"
    r"interdiction|tu ne|vous ne|surtout pas|on ne)",
    re.I,
)
CONTRAST = re.compile(
    r"\b(?:instead|rather|but|otherwise|in place of|plutôt|mais|à la place|au lieu|sinon)\b",
    re.I,
)
REPLACEMENT_VERBS = re.compile(
    r"^(?:please\s+)?(?:instead|rather|use|say|write|reply|answer|prefer|keep|stick|explain|ask|"
    r"plutôt|à la place|utilise|utilisez|dis|dites|écris|écrivez|réponds|répondez|privilégie|"
    r"privilégiez|garde|gardez|demande|demandez|explique|expliquez|propose|proposez|emploie|"
    r"employez|renvoie|renvoyez)\b",
    re.I,
)

STOPWORDS = set(
    _split(
        "the a an and or of to in on for with your you this that these those from into is are be "
        "not never don't do any all each only just it its as at by if then than when what which "
        "le la les des une un et ou de du au aux en dans pour avec ton ta tes votre vos ce cette "
        "ces pas jamais ne n' est sont être tout tous toute toutes chaque seulement que qui quand "
        "use utilise utilisez answer reply réponds répondez write écris écrivez"
    )
)


def content_words(text: str) -> set[str]:
    words = re.findall(r"[\w'-]{4,}", text.lower())
    return {w for w in words if w not in STOPWORDS}


def fold(text: str) -> str:
    """Lower case, accents and surrounding punctuation removed: for comparing labels."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.strip(" \t\n.,;:!?\"'`«»“”‘’()[]{}*_")


def negated_before(text: str, start: int) -> bool:
    """Whether a negation sits in the few words before `start` ("do not be brief")."""
    before = text[max(0, start - 24) : start].lower()
    return bool(re.search(r"\b(?:not|n't|never|no|pas|jamais|ne|n')\s*(?:\w+\s+)?$", before))
