"""Build data/curation/written-spam/prompts.jsonl.gz.

A training source written for Winnow from a spam taxonomy (phishing e-mail, advance-fee, crypto
giveaways, channel promotion, fake jobs, pharma, SEO link dumps, multilingual): the public spam
collections have SMS and comments, but no phishing or scam e-mail under a usable licence. Every
template and filler below is our own text. Apache-2.0, like the rest of the repo.

A written attack corpus built the same way was tried and dropped: measured leave-one-source-out,
it raised no other attack source's recall and raised false positives on the hard negatives from
0.020 to 0.072 (docs/curation.md).

Deterministic: `python scripts/build-written-corpora.py` gives byte-identical files (seed 13).
An attack here *tries* to switch off rules, extract hidden instructions or hijack the task; the
benign look-alikes (mentioning or asking about such things) are in data/curation/hard-negatives.
"""

# Multilingual text: full-width punctuation, dotless i etc. are the point here.
from __future__ import annotations

import gzip
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

SEED = 13
ROOT = Path(__file__).resolve().parents[1] / "data" / "curation"
Maker = Callable[[random.Random], str]
Seq = list[str] | tuple[str, ...]


def pick(rng: random.Random, options: Seq) -> str:
    return options[rng.randrange(len(options))]


def maybe(rng: random.Random, p: float, text: str) -> str:
    return text if rng.random() < p else ""


def styled(rng: random.Random, text: str) -> str:
    """Vary register on the surface: casing, final punctuation, spacing."""
    r = rng.random()
    if r < 0.12:
        text = text.lower()
    elif r < 0.17:
        text = text.upper()
    r = rng.random()
    if r < 0.15:
        text = text.rstrip(".!?")
    elif r < 0.22:
        text = text.rstrip(".") + "!!"
    if rng.random() < 0.05:
        text = text.replace(". ", ".  ")
    return text.strip()


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- spam -----------------------------------------------------------------------------------

BRANDS = [
    "PayPal",
    "Netflix",
    "Amazon",
    "Apple ID",
    "Microsoft 365",
    "DHL",
    "FedEx",
    "Royal Mail",
    "HMRC",
    "IRS",
    "Chase",
    "Wells Fargo",
    "Barclays",
    "Outlook",
    "Instagram",
    "Coinbase",
    "Binance",
    "USPS",
    "La Poste",
    "Santander",
]
TLDS = [".xyz", ".top", ".click", ".info", ".online", ".site", ".live", ".icu", ".cc", ".ru"]


def link(
    rng: random.Random,
    words: Seq = (
        "secure",
        "verify",
        "login",
        "account",
        "update",
        "support",
        "claim",
        "track",
        "refund",
        "billing",
    ),
) -> str:
    w1, w2 = pick(rng, words), pick(rng, BRANDS).lower().replace(" ", "")
    host = pick(rng, [f"{w2}-{w1}", f"{w1}-{w2}{rng.randint(1, 99)}", f"{w2}{w1}", f"my{w2}-help"])
    path = pick(
        rng,
        [
            "/login",
            "/verify?id=" + str(rng.randint(10000, 99999)),
            "/session",
            "/auth/confirm",
            "/",
            "/case/" + str(rng.randint(100, 9999)),
        ],
    )
    scheme = pick(rng, ["https://", "http://", "", "hxxps://"])
    return f"{scheme}{host}{pick(rng, TLDS)}{path}"


def phishing(rng: random.Random) -> str:
    b, u = pick(rng, BRANDS), link(rng)
    hours = pick(rng, ["24 hours", "48 hours", "12 hours", "72 hours", "today"])
    subj = pick(
        rng,
        [
            "Action required",
            "Your account has been locked",
            "Unusual sign-in activity",
            "Payment failed",
            "Invoice #" + str(rng.randint(1000, 99999)),
            "Your parcel is on hold",
            "Tax refund notification",
            "Security alert",
            "Final notice",
            "Verify your identity",
        ],
    )
    body = pick(
        rng,
        [
            f"We detected unusual activity on your {b} account and have temporarily locked it. To "
            f"restore access, verify your password within {hours}: {u}",
            f"Your {b} payment could not be processed. Update your billing details at {u} or your "
            f"account will be suspended within {hours}.",
            f"Please find your invoice attached (INV-{rng.randint(1000, 9999)}.pdf.exe). Open the "
            f"secure viewer to see the amount due: {u}",
            f"{b}: your parcel is held at our depot due to an unpaid customs fee of "
            f"£{rng.randint(1, 4)}.{rng.randint(10, 99)}. Pay now to release it: {u}",
            f"You are eligible for a tax refund of ${rng.randint(200, 990)}.{rng.randint(10, 99)}. "
            f"Submit your bank details to receive it: {u}",
            f"Your mailbox storage is full. Messages will be deleted in {hours}. Log in to keep "
            "them: "
            f"{u}",
            f"Someone signed in to your {b} account from "
            f"{pick(rng, ['Russia', 'Nigeria', 'Brazil', 'an unknown device'])}. "
            f"If this wasn't you, confirm your details here: {u}",
            f"Your {b} password expires soon. Keep the same password by clicking {u}",
        ],
    )
    greet = pick(
        rng, ["Dear Customer,", "Dear valued member,", "Hello,", "Dear account holder,", ""]
    )
    sign = pick(
        rng, [f"{b} Security Team", f"The {b} Team", "Customer Service", "Support Department"]
    )
    return f"Subject: {subj}\n\n{greet}\n\n{body}\n\nThank you,\n{sign}".replace("\n\n\n", "\n\n")


def advance_fee(rng: random.Random) -> str:
    amt = f"${rng.randint(2, 48)},{rng.randint(100, 999)},000"
    name = pick(
        rng,
        [
            "Barrister James Okafor",
            "Mrs. Helen Whitfield",
            "Dr. Ahmed Karim",
            "Mr. Paul Mensah",
            "Prince Adewale",
            "Col. Richard Haines",
            "Sgt. Lisa Moore",
            "Mr. Chen Wei",
            "Mrs. Grace Tanaka",
        ],
    )
    mail = (
        f"{pick(rng, ['claims', 'office', 'private', 'desk', 'agent'])}{rng.randint(1, 999)}@"
        f"{pick(rng, ['gmail.com', 'outlook.com', 'yahoo.com', 'proton.me', 'mail.ru'])}"
    )
    return pick(
        rng,
        [
            f"Dear Friend,\n\nI am {name}, attorney to a late client who died without a will and "
            "shares "
            f"your surname. He left {amt} in a bank in "
            f"{pick(rng, ['Lagos', 'London', 'Dubai', 'Accra'])}. "
            "I propose we share it 50/50. Reply with your full name, phone and bank details to "
            f"{mail}.",
            f"CONGRATULATIONS!!! Your e-mail address won {amt} in the International Online "
            "Lottery. "
            f"Ticket no. {rng.randint(10000, 99999)}. To claim, send the processing fee of "
            f"${rng.randint(150, 900)} and your details to {mail}.",
            f"Greetings. I am a diplomat stranded at the airport with a consignment box containing "
            f"{amt}. I need a trustworthy person to receive it. You keep 30%. Contact {mail} "
            "urgently.",
            f"Confidential business proposal: I am {name}, a bank manager. An abandoned account "
            "holds "
            f"{amt}. With your help as next of kin we can move it safely. Reply to {mail} for "
            "details.",
            f"Attention beneficiary, your compensation fund of {amt} has been approved by the UN. "
            f"Pay the delivery fee of ${rng.randint(100, 500)} via gift cards to release it. "
            f"{mail}",
            f"Hello dear, I am {name}, a widow with cancer. I want to donate {amt} to charity "
            "through "
            f"you before I die. Kindly reply to {mail} with your details.",
        ],
    )


COINS = ["BTC", "ETH", "SOL", "USDT", "DOGE", "XRP", "BNB"]


def crypto(rng: random.Random) -> str:
    c = pick(rng, COINS)
    addr = (
        "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40))
        if c != "BTC"
        else "bc1q" + "".join(rng.choice("023456789acdefghjklmnpqrstuvwxyz") for _ in range(38))
    )
    who = pick(rng, ["Elon", "Vitalik", "our CEO", "the foundation", "Binance", "a top trader"])
    u = link(rng, ("airdrop", "claim", "giveaway", "wallet", "connect", "bonus", "rewards"))
    return styled(
        rng,
        pick(
            rng,
            [
                f"🚀 {who} is giving away 5,000 {c}! Send 0.{rng.randint(1, 9)} {c} to {addr} and "
                "get "
                f"double back instantly. Only 2 hours left!",
                f"Official {c} airdrop is live 🎁 Connect your wallet at {u} to claim your free "
                "tokens "
                "before they run out.",
                f"Double your {c}! Any amount sent to {addr} is returned 2x within 30 minutes. "
                "Limited "
                "event, verified.",
                f"I turned $500 into ${rng.randint(8, 60)},000 in a week with this {c} bot. DM "
                "me or visit "
                f"{u} 💰💰",
                f"Your wallet is eligible for {rng.randint(100, 5000)} free {c}. Validate it by "
                "entering "
                f"your seed phrase at {u}",
                "Crypto signals group: 100% accurate calls, guaranteed profits daily. Join now "
                f"{u} 📈",
                f"⚠️ Wallet sync error detected. Reconnect your wallet at {u} to avoid losing "
                f"your {c}.",
            ],
        ),
    )


def channel(rng: random.Random) -> str:
    handle = pick(
        rng,
        [
            "cryptokings",
            "freefollowers",
            "dailymemes",
            "fxprofit",
            "promo_hub",
            "gamingdeals",
            "moviesfree",
            "ig_growth",
            "earnfast",
            "leaks_vip",
        ],
    )
    tg = f"t.me/{handle}{rng.randint(1, 999)}"
    invite = "".join(rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGH23456789") for _ in range(7))
    dc = f"discord.gg/{invite}"
    group = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(12))
    wa = f"chat.whatsapp.com/{group}"
    return styled(
        rng,
        pick(
            rng,
            [
                f"Join my Telegram group for free signals 👉 {tg}",
                "Subscribe to my channel!! I upload every day, sub for sub? 🙏",
                "Follow me and I'll follow back, gain 1k followers fast, link in bio",
                f"Free movies and series in our Discord: {dc} join now before it's full",
                f"Join our WhatsApp group for daily deals and giveaways {wa}",
                "Check out my channel, I make way better videos than this, please subscribe 😊",
                f"🔥 VIP group with exclusive content → {tg} 🔥 limited spots",
                f"Want more followers? {tg} — real followers, no password needed",
                "Hey guys, I just started a channel about "
                f"{pick(rng, ['gaming', 'cooking', 'music', 'cars'])}, "
                f"could you sub? Means a lot! search {handle}",
                f"Everyone join {dc} for free nitro and giveaways!!!",
                f"Earn while you chat, join {tg} and message the admin",
            ],
        ),
    )


def job(rng: random.Random) -> str:
    pay = rng.randint(200, 900)
    return styled(
        rng,
        pick(
            rng,
            [
                f"Work from home and earn ${pay}/day! No experience needed. Just 2 hours a day "
                "on your "
                f"phone. WhatsApp +{rng.randint(1, 99)} {rng.randint(100, 999)} "
                f"{rng.randint(1000, 9999)}",
                f"We are hiring online assistants. Like videos and earn ${pay} a day. Contact HR "
                "on "
                "Telegram to start today.",
                "Hello, I'm a recruiter from "
                f"{pick(rng, ['Amazon', 'a top agency', 'LinkedIn', 'TikTok'])}. "
                f"Part-time job, {pay} USD daily, flexible hours. Reply YES to get started.",
                f"Make ${pay * 30:,} a month from home with this simple method. Limited places, "
                "register "
                f"at {link(rng, ('jobs', 'earn', 'work', 'career'))}",
                "Become a mystery shopper! Deposit the cheque we send you and wire back the "
                "difference. "
                f"Earn ${pay} per task.",
                f"Data entry from home, paid weekly, ${pay} per day. Registration fee only $49.",
            ],
        ),
    )


def pharma(rng: random.Random) -> str:
    drug = pick(
        rng,
        [
            "V1agra",
            "Cialis",
            "weight-loss pills",
            "Xanax",
            "Tramadol",
            "Ozempic",
            "diet gummies",
            "hair regrowth serum",
            "testosterone boosters",
        ],
    )
    return styled(
        rng,
        pick(
            rng,
            [
                f"Buy {drug} online, no prescription needed, {rng.randint(50, 90)}% OFF, "
                "discreet delivery: "
                f"{link(rng, ('pharmacy', 'meds', 'rx', 'store'))}",
                f"Lose {rng.randint(10, 30)} pounds in {rng.randint(7, 21)} days with {drug}! "
                "Doctors hate "
                "this trick. Order now.",
                f"Cheap {drug} shipped overnight. Best prices guaranteed. Click here to order.",
                "Meet hot singles in your area tonight! 18+ only, free sign up: "
                f"{link(rng, ('dating', 'meet', 'singles'))}",
                f"Special offer: {drug} at wholesale prices, no questions asked. Reply STOP to "
                "unsubscribe.",
            ],
        ),
    )


SEO_WORDS = [
    "best casino",
    "cheap flights",
    "buy followers",
    "payday loans",
    "replica watches",
    "essay writing service",
    "cheap backlinks",
    "slot online",
    "bet bonus",
    "forex robot",
]


def seo(rng: random.Random) -> str:
    k = rng.randint(3, 7)
    links = [
        f"[{pick(rng, SEO_WORDS)}](https://{pick(rng, SEO_WORDS).replace(' ', '-')}"
        f"{rng.randint(1, 99)}{pick(rng, TLDS)})"
        for _ in range(k)
    ]
    plain = [f"https://{pick(rng, SEO_WORDS).replace(' ', '')}{pick(rng, TLDS)}" for _ in range(k)]
    return pick(
        rng,
        [
            "Great post! " + " ".join(links),
            "Nice article, thanks for sharing. Visit " + ", ".join(plain),
            " | ".join(f"{pick(rng, SEO_WORDS)} {u}" for u in plain),
            f"{pick(rng, SEO_WORDS).title()} {pick(rng, SEO_WORDS)} {pick(rng, SEO_WORDS)} "
            + " ".join(plain),
            "Very informative. I also wrote about this: " + plain[0] + "\n" + "\n".join(links),
        ],
    )


SPAM_MULTI: dict[str, list[str]] = {
    "es": [
        "Su cuenta bancaria ha sido bloqueada. Verifique sus datos aquí: {u}",
        "¡Felicidades! Ha ganado un iPhone. Reclámelo ahora en {u}",
        "Únete a nuestro grupo de Telegram y gana dinero desde casa: {t}",
        "Gana 300 € al día trabajando desde casa, sin experiencia. Escríbenos por WhatsApp.",
        "Su paquete está retenido. Pague 1,99 € de aduana en {u}",
    ],
    "pt": [
        "Sua conta foi suspensa. Confirme seus dados em {u}",
        "Parabéns! Você ganhou R$ 5.000 no sorteio. Resgate em {u}",
        "Entre no nosso grupo do Telegram para sinais de cripto grátis: {t}",
        "Ganhe dinheiro em casa, só 2 horas por dia. Chame no WhatsApp!",
        "Sua encomenda está retida. Pague a taxa em {u}",
    ],
    "fr": [
        "Votre compte a été bloqué. Vérifiez vos informations ici : {u}",
        "Félicitations, vous avez gagné un bon d'achat de 500 € ! Réclamez-le sur {u}",
        "Rejoignez notre groupe Telegram pour des signaux crypto gratuits : {t}",
        "Votre colis est en attente. Réglez les frais de livraison sur {u}",
        "Doublez vos bitcoins en 24h, offre limitée : {u}",
    ],
    "de": [
        "Ihr Konto wurde gesperrt. Bestätigen Sie Ihre Daten hier: {u}",
        "Herzlichen Glückwunsch! Sie haben 1.000 € gewonnen. Jetzt abholen: {u}",
        "Tritt unserer Telegram-Gruppe bei und verdiene täglich Geld: {t}",
        "Ihr Paket wartet auf Zustellung. Zahlen Sie die Gebühr von 1,99 € unter {u}",
        "Steuerrückerstattung verfügbar: Geben Sie Ihre Bankdaten ein unter {u}",
    ],
    "ru": [
        "Ваш аккаунт заблокирован. Подтвердите данные по ссылке: {u}",
        "Поздравляем! Вы выиграли 50 000 рублей. Заберите приз: {u}",
        "Подписывайся на наш Telegram-канал, там бесплатные сигналы: {t}",
        "Работа на дому, от 5000 рублей в день, без опыта. Пишите в WhatsApp.",
        "Удвоим ваши USDT за 30 минут, переводите на кошелёк: {u}",
    ],
    "hi": [
        "आपका बैंक खाता बंद कर दिया गया है। अपनी जानकारी यहाँ सत्यापित करें: {u}",
        "बधाई हो! आपने 25 लाख रुपये की लॉटरी जीती है। दावा करें: {u}",
        "घर बैठे रोज़ 2000 रुपये कमाएँ, हमारे टेलीग्राम ग्रुप से जुड़ें: {t}",
        "आपका KYC अपडेट नहीं है, खाता बंद हो जाएगा। तुरंत क्लिक करें: {u}",
    ],
    "id": [
        "Akun Anda diblokir. Verifikasi data Anda di sini: {u}",
        "Selamat! Anda memenangkan hadiah Rp 10.000.000. Klaim sekarang: {u}",
        "Gabung grup Telegram kami untuk sinyal trading gratis: {t}",
        "Kerja dari rumah, gaji harian 500 ribu, tanpa pengalaman. Hubungi WhatsApp kami.",
        "Paket Anda tertahan, bayar biaya pengiriman di {u}",
    ],
}


def spam_multilingual(rng: random.Random) -> list[tuple[str, str]]:
    rows = []
    for lang, texts in SPAM_MULTI.items():
        for t in texts:
            for _ in range(3):
                u = link(rng)
                handle = pick(rng, ["sinais", "gruppe", "kanal", "vip", "promo"])
                tg = f"t.me/{handle}{rng.randint(1, 999)}"
                rows.append((lang, t.replace("{u}", u).replace("{t}", tg)))
    return rows


SPAM_KINDS: dict[str, tuple[Maker, int]] = {
    "phishing": (phishing, 160),
    "advance-fee": (advance_fee, 100),
    "crypto-giveaway": (crypto, 110),
    "channel-promotion": (channel, 110),
    "fake-job": (job, 70),
    "pharma-adult": (pharma, 50),
    "seo-links": (seo, 60),
}


def _collect(
    rng: random.Random, kinds: dict[str, tuple[Maker, int]], label: str, seen: set[str]
) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for kind, (make, want) in kinds.items():
        got, tries = 0, 0
        while got < want and tries < want * 200:
            tries += 1
            text = make(rng).strip()
            if text in seen:
                continue
            seen.add(text)
            rows.append({"text": text, "label": label, "kind": kind, "lang": "en"})
            got += 1
        if got < want:
            raise SystemExit(f"{kind}: only {got} distinct texts, wanted {want}")
    return rows


def build() -> list[dict[str, str]]:
    rng = random.Random(SEED)
    seen: set[str] = set()
    spam = _collect(rng, SPAM_KINDS, "spam", seen)
    for lang, text in spam_multilingual(rng):
        if text not in seen:
            seen.add(text)
            spam.append({"text": text, "label": "spam", "kind": "multilingual", "lang": lang})
    return spam


def write(folder: str, rows: list[dict[str, str]]) -> None:
    out = ROOT / folder
    out.mkdir(parents=True, exist_ok=True)
    path = out / "prompts.jsonl.gz"
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    with gzip.GzipFile(path, "wb", mtime=0) as f:  # mtime=0: byte-identical on rerun
        f.write(body)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    print(f"{path}: {len(rows)} rows", json.dumps(counts), file=sys.stderr)


def main() -> None:
    write("written-spam", build())


if __name__ == "__main__":
    main()
