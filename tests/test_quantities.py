"""Numbers read right, with their units: each case a short sentence of our own, run
through the real spaCy model, asserting exact values, units and texts."""

import pytest

from newsdesk.extraction.quantities import extract_quantities, parse_number


def rows(nlp, sentence: str) -> list[tuple[str, float, str | None]]:
    """(text, value, unit) of every quantity, after checking each text is the sentence at its offsets."""
    found = extract_quantities(nlp(sentence), sentence)
    for q in found:
        assert sentence[q.start_char : q.end_char] == q.text
    return [(q.text, q.value, q.unit) for q in found]


@pytest.mark.parametrize(
    "text, value",
    [
        ("600,000", 600000.0),
        ("3 million", 3_000_000.0),
        ("an additional 10,000", 10000.0),
        ("£5bn", 5e9),
        ("1.5 billion", 1.5e9),
        ("15%", 15.0),
        ("three", 3.0),
        ("twenty five", 25.0),
        ("twenty-five", 25.0),
        ("a dozen", 12.0),
        ("2m", 2e6),
        ("some", None),
        ("$28.5m", 28_500_000.0),
        ("€1.2bn", 1_200_000_000.0),
        ("Rs 500 crore", 5_000_000_000.0),
        ("Rs 50 lakh", 5_000_000.0),
        ("50p", 0.5),
        ("20 cents", 0.2),
        ("a quarter", 0.25),
        ("three-quarters", 0.75),
        ("two-thirds", 2 / 3),
        ("five-and-a-half", 5.5),
        ("one and a half million", 1_500_000.0),
        ("half a million", 500_000.0),
        ("three hundred and fifty thousand", 350_000.0),
        ("one-two", None),
        ("two three", None),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


def test_quantities_carry_values_units_and_offsets(nlp):
    doc = nlp("Officials said 3,000 troops arrived and the deal cost $2 billion, up 15%.")
    found = {q.value: q for q in extract_quantities(doc)}
    assert found[3000.0].unit == "troop"
    assert found[2e9].unit == "USD"
    assert found[15.0].unit == "percent"
    for q in found.values():
        assert doc.text[q.start_char : q.end_char] == q.text


@pytest.mark.parametrize(
    "sentence, expected",
    [
        # spaCy's entity drops the symbol and the suffix: both are taken back.
        ("The firm paid $28.5m for the site.", ("$28.5m", 28_500_000.0, "USD")),
        ("The club spent 400m euros on new players.", ("400m euros", 400_000_000.0, "EUR")),
        ("The council borrowed £50m last year.", ("£50m", 50_000_000.0, "GBP")),
        # No entity at all for this one: found by the grammar alone.
        ("The bank set aside €1.2bn for losses.", ("€1.2bn", 1_200_000_000.0, "EUR")),
        ("The fund raised US$5bn from investors.", ("US$5bn", 5_000_000_000.0, "USD")),
        ("Ministers pledged 5 billion dollars to the scheme.", ("5 billion dollars", 5e9, "USD")),
        ("The plan would cost $1 trillion over a decade.", ("$1 trillion", 1e12, "USD")),
        ("The state budgeted Rs 500 crore for roads.", ("Rs 500 crore", 5_000_000_000.0, "INR")),
        ("The loan was 500 crore rupees.", ("500 crore rupees", 5_000_000_000.0, "INR")),
        ("The loan of USD 5m was repaid.", ("USD 5m", 5_000_000.0, "USD")),
        ("The loan of 5m USD was repaid.", ("5m USD", 5_000_000.0, "USD")),
        ("China spent 30bn yuan on rail.", ("30bn yuan", 30_000_000_000.0, "CNY")),
        ("The deal was worth 2 billion Swiss francs.", ("2 billion Swiss francs", 2e9, "CHF")),
        ("The fine was 2,500 Australian dollars.", ("2,500 Australian dollars", 2500.0, "AUD")),
        ("The deal was worth 300bn yen.", ("300bn yen", 300_000_000_000.0, "JPY")),
        ("The rouble fell as Russia spent 40bn roubles.", ("40bn roubles", 40_000_000_000.0, "RUB")),
        ("The bill reached US$ 3 million.", ("US$ 3 million", 3_000_000.0, "USD")),
        ("The plant cost ¥300bn to build.", ("¥300bn", 300_000_000_000.0, "JPY")),  # spaCy: no entity
        ("The plant cost 2tn won.", ("2tn won", 2e12, "KRW")),  # spaCy: an ORDINAL
        # Minor units are read in the main unit; cents are assumed US.
        ("A coffee now costs 50p more.", ("50p", 0.5, "GBP")),
        ("Stamps rose by 20 cents.", ("20 cents", 0.2, "USD")),
    ],
)
def test_money_takes_its_currency_symbol_code_and_scale(nlp, sentence, expected):
    assert rows(nlp, sentence) == [expected]


def test_dollar_prefixes_name_their_currency(nlp):
    assert rows(nlp, "The company lost A$3bn, C$2m and HK$4bn.") == [
        ("A$3bn", 3e9, "AUD"),
        ("C$2m", 2e6, "CAD"),
        ("HK$4bn", 4e9, "HKD"),
    ]


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("Unemployment fell by 3 percent.", ("3 percent", 3.0, "percent")),
        ("Shares fell 2.5 per cent on Monday.", ("2.5 per cent", 2.5, "percent")),  # spaCy says MONEY
        ("Interest rates were cut to 0.1%.", ("0.1%", 0.1, "percent")),
        ("Inflation rose 2.5 percentage points.", ("2.5 percentage points", 2.5, "percentage point")),
        ("The bank raised rates by 0.25 percentage point.", ("0.25 percentage point", 0.25, "percentage point")),
    ],
)
def test_percent_and_percentage_points(nlp, sentence, expected):
    assert rows(nlp, sentence) == [expected]


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("He served five-and-a-half years in prison.", ("five-and-a-half", 5.5, "year")),
        # A fraction of a plural noun counts it, as "one of the X" does (was None).
        ("About two-thirds of voters agreed.", ("two-thirds", 2 / 3, "voter")),
        ("Three-quarters of the staff left.", ("Three-quarters", 0.75, None)),  # "staff": no plural noun
        ("The city has one and a half million residents.", ("one and a half million", 1.5e6, "resident")),
        ("Twenty-five people were hurt.", ("Twenty-five", 25.0, "people")),
        ("Half a million people marched.", ("Half a million", 500_000.0, "people")),
        # spaCy calls "a quarter" a DATE here; "a quarter of" marks it as a fraction.
        ("Nearly a quarter of pupils walk to school.", ("a quarter", 0.25, "pupil")),
    ],
)
def test_fractions_and_hyphenated_number_words(nlp, sentence, expected):
    assert rows(nlp, sentence) == [expected]


@pytest.mark.parametrize(
    "sentence",
    [
        "He played a neat one-two with his captain.",  # a football pass, not 3
        "United won 2-1 at home.",  # a score, not 21 or 2
        "The score finished 1-0.",
        "He scored twice in a 3-1 victory.",
        "The team lined up 4-4-2 against the visitors.",
    ],
)
def test_joined_numbers_that_are_not_a_quantity_give_none(nlp, sentence):
    assert rows(nlp, sentence) == []


@pytest.mark.parametrize(
    "sentence, low, high",
    [
        ("Between 5 and 10 million viewers tuned in.", ("5", 5e6, "viewer"), ("10 million", 10e6, "viewer")),
        ("Prices rose 5-10% this year.", ("5", 5.0, "percent"), ("10%", 10.0, "percent")),
        ("Prices jumped 5%-10% in a week.", ("5%", 5.0, "percent"), ("10%", 10.0, "percent")),
        ("The merger could cost $2bn-$3bn.", ("$2bn", 2e9, "USD"), ("$3bn", 3e9, "USD")),
        ("The repair bill could reach between £5m and £10m.", ("£5m", 5e6, "GBP"), ("£10m", 10e6, "GBP")),
        ("Some 10 to 15 people were arrested.", ("10", 10.0, "people"), ("15", 15.0, "people")),
        ("Analysts expect 5-10 million new subscribers.", ("5", 5e6, "subscriber"), ("10 million", 10e6, "subscriber")),
        ("The storm left between two and three million homes.", ("two", 2e6, "home"), ("three million", 3e6, "home")),
        ("One or two players may leave.", ("One", 1.0, "player"), ("two", 2.0, "player")),
        ("Police said 20-30 people were held.", ("20", 20.0, "people"), ("30", 30.0, "people")),
        ("Around 5,000-6,000 fans travelled.", ("5,000", 5000.0, "fan"), ("6,000", 6000.0, "fan")),
        ("Bus fares rose by 20-30p a trip.", ("20", 0.2, "GBP"), ("30p", 0.3, "GBP")),
        ("Tickets cost between 5p and £1.", ("5p", 0.05, "GBP"), ("£1", 1.0, "GBP")),
    ],
)
def test_ranges_give_low_and_high_with_the_shared_scale_and_unit(nlp, sentence, low, high):
    assert rows(nlp, sentence) == [low, high]


def test_a_low_end_already_above_the_high_count_keeps_its_own_scale(nlp):
    assert rows(nlp, "Estimates ranged between 500 and 2 million visitors.") == [
        ("500", 500.0, "visitor"),
        ("2 million", 2e6, "visitor"),
    ]


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("The army sent 600,000 soldiers to the front.", [("600,000", 600000.0, "soldier")]),
        (
            "The lorry carried 20 tonnes of grain and 5 kilometres of cable.",
            # One spelling per measure: "kilometres" is km, as "10km" is (was "kilometre").
            [("20 tonnes", 20.0, "tonne"), ("5 kilometres", 5.0, "km")],
        ),
        ("He weighed 200 pounds before the diet.", [("200 pounds", 200.0, "pound")]),  # a weight
        ("The road is 10km long.", [("10km", 10.0, "km")]),
        ("The firm cut 1,500 jobs in 2019.", [("1,500", 1500.0, "job")]),  # the year is a DATE
        ("The storm cut power to 1.2m homes.", [("1.2m", 1.2e6, "home")]),  # the parser takes "m" for the noun
        ("The tycoon gave 3m francs.", [("3m francs", 3e6, None)]),  # money in an unknown currency: no unit
    ],
)
def test_counted_nouns_and_measures_stay_units(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        # A change then a level, not a range: neither shares the other's unit or scale.
        ("Sales fell 3.2% to £4.5bn last year.", [("3.2%", 3.2, "percent"), ("£4.5bn", 4.5e9, "GBP")]),
        ("Profit rose by a fifth to £600m.", [("£600m", 6e8, "GBP")]),
        ("The price of oil rose from $80 to $85 a barrel.", [("$80", 80.0, "USD"), ("$85", 85.0, "USD")]),
    ],
)
def test_numbers_with_different_units_are_not_a_range(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Cases rose to 500\n- 20 of them are in hospital.", [("500", 500.0, None)]),  # not a 500-20 score
        ("The fund grew to 40\nmillion people joined.", [("40", 40.0, None)]),  # not 40 million
    ],
)
def test_a_phrase_never_reads_across_a_line_break(nlp, text, expected):
    assert rows(nlp, text) == expected


def test_won_is_a_currency_only_after_a_scale(nlp):
    [(text, value, unit)] = rows(nlp, "All three won medals at the games.")
    assert (text, value) == ("three", 3.0) and unit != "KRW"


# --- Measures glued or spaced: the unit is the measure, the text covers it ------------------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("The laptop ships with a 512GB solid state drive.", ("512GB", 512.0, "GB")),
        ("The backup server stores 2 TB of photos.", ("2 TB", 2.0, "TB")),
        ("The card holds 64 gigabytes of music.", ("64 gigabytes", 64.0, "GB")),
        ("Rural homes will get 8Mbps connections next year.", ("8Mbps", 8.0, "Mbps")),
        ("The village can only get 256kbps broadband.", ("256kbps", 256.0, "kbps")),
        ("The new cable carries 10 Gbps between the sites.", ("10 Gbps", 10.0, "Gbps")),
        ("The cyclist covered 95km in the rain.", ("95km", 95.0, "km")),
        ("The tunnel is 4.5 kilometres long.", ("4.5 kilometres", 4.5, "km")),
        ("The parcel weighed 3kg on the scales.", ("3kg", 3.0, "kg")),
        ("The recipe needs 200g of flour.", ("200g", 200.0, "g")),
        ("Each tablet contains 250mg of the drug.", ("250mg", 250.0, "mg")),
        ("The lorry was travelling at 56mph when it crashed.", ("56mph", 56.0, "mph")),
        ("Drivers exceeded 80 miles per hour on the bypass.", ("80 miles per hour", 80.0, "mph")),
        ("Trains will run at 300km/h on the new line.", ("300km/h", 300.0, "km/h")),
        ("The wall is 12ft high.", ("12ft", 12.0, "ft")),
        ("The bottle holds 500ml of water.", ("500ml", 500.0, "ml")),
        ("The wind farm will produce 120MW of power.", ("120MW", 120.0, "MW")),
        ("Households used 3,100kWh of electricity.", ("3,100kWh", 3100.0, "kWh")),
        ("The phone's chip runs at 2.4GHz.", ("2.4GHz", 2.4, "GHz")),
        ("The warehouse covers 500 square feet.", ("500 square feet", 500.0, "square ft")),
        ("Most homes now get 2Mb broadband.", ("2Mb", 2.0, "Mb")),  # megabits, as UK ISPs sell it
        ("He won the heat in 7.21secs.", ("7.21secs", 7.21, "second")),
    ],
)
def test_measures_glued_or_spaced_are_the_unit(nlp, sentence, expected):
    assert rows(nlp, sentence) == [expected]


def test_a_range_shares_the_measure_written_after_it(nlp):
    assert rows(nlp, "Speeds of 10-20Mbps are expected.") == [("10", 10.0, "Mbps"), ("20Mbps", 20.0, "Mbps")]


@pytest.mark.parametrize(
    "sentence",
    [
        "The operator launched its 3G network.",  # a phone generation, not 3 grams
        "Her new 4G handset was slow.",
        "The 4x100m relay team won gold.",  # an event's name, not 4
        "Markets closed at 2100GMT.",
        "It will buy ten 777-200LR jets.",  # an aircraft model: not 777, nor 200
    ],
)
def test_a_number_glued_to_letters_that_are_no_unit_is_a_name(nlp, sentence):
    assert [text for text, _, _ in rows(nlp, sentence) if text != "ten"] == []


# --- A glued "m" in sport is metres, a glued "K" km; money and counts stay millions ---------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("She is the reigning European 200m champion.", [("200m", 200.0, "metre")]),
        ("He finished fourth in the 110m hurdles.", [("110m", 110.0, "metre")]),
        ("The Kenyan won a 1500m race in Oslo.", [("1500m", 1500.0, "metre")]),
        ("He swam the 200m butterfly in record time.", [("200m", 200.0, "metre")]),
        ("He is a 5,000m runner.", [("5,000m", 5000.0, "metre")]),
        ("He took 400m gold at the trials.", [("400m", 400.0, "metre")]),
        # No noun after it, a determiner or possessive before it.
        ("Her time in the women's 800m was a personal best.", [("800m", 800.0, "metre")]),
        ("She pulled clear over the final 400m.", [("400m", 400.0, "metre")]),
        # Listed with a distance read as metres.
        ("He won the 100m and 200m in Rome.", [("100m", 100.0, "metre"), ("200m", 200.0, "metre")]),
        # Two decimals and no noun: a field event.
        ("She cleared 4.75m at her first attempt.", [("4.75m", 4.75, "metre")]),
        ("She ran a 10K race through the park.", [("10K", 10.0, "km")]),
    ],
)
def test_sport_distances_are_metres_and_km(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("The council spent £100m on roads.", ("£100m", 1e8, "GBP")),
        ("The company lost $200m in a year.", ("$200m", 2e8, "USD")),
        ("About 400m people use the app.", ("400m", 4e8, "people")),
        ("The airport expects 60m passengers a year.", ("60m", 6e7, "passenger")),
        ("The club was handed a 5m fine.", ("5m", 5e6, None)),
        ("Subscribers rose to 100m last year.", ("100m", 1e8, None)),
        ("The app has 10K users.", ("10K", 1e4, "user")),
    ],
)
def test_money_and_counts_with_a_glued_m_or_k_stay_millions_and_thousands(nlp, sentence, expected):
    assert rows(nlp, sentence) == [expected]


# --- "N/M" is one number: odds or a fraction; dates, seasons, names and codes are none ------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("The bookmakers make her the 4/6 favourite.", [("4/6", 4 / 6, "odds")]),
        ("He is a 20/1 outsider for the title.", [("20/1", 20.0, "odds")]),
        ("The horse started at 11/4 odds.", [("11/4", 2.75, "odds")]),
        ("Her price shortened from 9/2 to 3/1 favourite.", [("9/2", 4.5, "odds"), ("3/1", 3.0, "odds")]),
        ("Roughly 3/4 of members backed the plan.", [("3/4", 0.75, None)]),
    ],
)
def test_a_slash_fraction_is_one_number(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "The hotline is open 24/7.",
        "The match was played on 14/3/2005.",
        "The 2005/06 season starts soon.",
        "Fans queued to watch 007 films.",  # a leading zero: a code or a name
    ],
)
def test_dates_seasons_names_and_codes_give_no_number(nlp, sentence):
    assert rows(nlp, sentence) == []


# --- The counted noun is the head of the noun phrase; pronoun-like heads are no unit --------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("Two 50th Birthday Tribute Concerts were planned.", ("Two", 2.0, "concert")),
        ("Three 40th Jubilee Special Medals were presented.", ("Three", 3.0, "medal")),
        # Common-noun compounds stay in the unit (was "van"); adjectives do not.
        ("The council bought 300 electric delivery vans.", ("300", 300.0, "delivery van")),
        # The hyphened word is part of the number's text.
        ("The treaty created a 12-nation trading bloc.", ("12-nation", 12.0, "nation")),
        ("She and four others were released on bail.", ("four", 4.0, None)),
        ("Customers returned three faulty ones.", ("three", 3.0, None)),
    ],
)
def test_the_unit_is_the_head_noun_the_number_counts(nlp, sentence, expected):
    assert rows(nlp, sentence) == [expected]


# --- A number with no noun shares the noun of a coordinated one ------------------------------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        (
            "About 3.1 million pupils walk to school, while 1.8 million take the bus.",
            [("3.1 million", 3.1e6, "pupil"), ("1.8 million", 1.8e6, "pupil")],
        ),
        ("Police arrested 20 fans and charged 6.", [("20", 20.0, "fan"), ("6", 6.0, "fan")]),
        ("The shop sold 500 bikes in May and 650 in June.", [("500", 500.0, "bike"), ("650", 650.0, "bike")]),
        ("Some 40 nurses quit, up from 25 in 2003.", [("40", 40.0, "nurse"), ("25", 25.0, "nurse")]),
    ],
)
def test_a_coordinated_number_shares_the_counted_noun(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        # Not coordinated: a page number, which is no quantity at all.
        ("Some 300 workers lost their jobs, according to page 12 of the report.", [("300", 300.0, "worker")]),
        # Another sentence.
        ("Police arrested 20 fans. Later, 3 were freed.", [("20", 20.0, "fan"), ("3", 3.0, None)]),
        # Paid to someone: an amount, not a count of engineers.
        ("The firm hired 200 engineers and paid them 5 each.", [("200", 200.0, "engineer"), ("5", 5.0, None)]),
    ],
)
def test_a_number_not_coordinated_keeps_no_unit(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


# --- "one of the X" counts X; a hyphened word stays in the text ------------------------------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("One of the most tiring parts of the trip was the wait.", [("One", 1.0, "part")]),
        ("The thief escaped through one of the back windows.", [("one", 1.0, "window")]),
        ("She is one of the few survivors of the crash.", [("one", 1.0, "survivor")]),
        ("Police questioned one of its senior managers.", [("one", 1.0, "manager")]),
        ("The club sold three of its best players.", [("three", 3.0, "player")]),
        # A pronoun, a singular noun after a page number, a ratio: no noun counted.
        ("Only one of them was charged.", [("one", 1.0, None)]),
        ("Page 12 of the report was missing.", []),
        ("Roughly one in 20 of the city's cyclists wear helmets.", [("one", 1.0, None), ("20", 20.0, None)]),
    ],
)
def test_one_of_the_plural_noun_counts_that_noun(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("The minister began a four-nation tour of Asia.", [("four-nation", 4.0, "nation")]),
        ("The board published a three-monthly report.", [("three-monthly", 3.0, "month")]),
        # Money keeps its own text: the words hyphened after it are no count.
        ("The deal cost a £5m-a-year fee.", [("£5m", 5e6, "GBP")]),
    ],
)
def test_a_hyphened_word_stays_in_the_text(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


# --- A day before a month, a number in a title: no quantity ----------------------------------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        # spaCy labels the day CARDINAL and only the month DATE here.
        ("Airlines lost money after 11 September - fares fell sharply.", []),
        ("Bookings dropped after 11 September - hotels emptied.", []),
        # A capitalised number word inside a programme's or a channel's name.
        ("She told the World at One programme that she would resign.", []),
        ("She told BBC Two on Sunday that she would stand.", []),
        ("He spoke on the Today at Nine programme yesterday.", []),
        # A count beside a date is still a count.
        ("Police arrested 20 people on 5 May.", [("20", 20.0, "people")]),
    ],
)
def test_days_of_a_month_and_numbers_in_names_are_no_quantity(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        # A comma-grouped distance that is no standard one, in sport: metres.
        ("He was completing the 10,500m course in the rain.", [("10,500m", 10500.0, "metre")]),
        ("She won the 3,200m steeplechase in Oslo.", [("3,200m", 3200.0, "metre")]),
        # Outside sport, still millions.
        ("Savers deposited 1,200m last year.", [("1,200m", 1.2e9, None)]),
    ],
)
def test_a_comma_grouped_distance_in_sport_is_metres(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


# --- Ranks and identifiers are no quantities -------------------------------------------------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("The striker slipped two places to number four in the rankings.", [("two", 2.0, "place")]),
        ("She was employee number 31 at the start-up.", []),
        ("He walked out of No. 10 after the meeting.", []),
        ("He wore the no. 7 shirt.", []),
        ("The claim appears on page 12 of the report.", []),
        ("The song is track 4 on the album.", []),
        ("The meeting was held in room 214 of the hotel.", []),
        ("The world number one lost in the first round.", []),
        # Money after such a word is still money.
        ("The page 3 advert cost £5m.", [("£5m", 5e6, "GBP")]),
    ],
)
def test_a_count_after_number_page_or_room_is_a_rank(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


# --- Rates written out; multipliers; "one" as a pronoun before a name ------------------------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        (
            "Users got speeds of 0.3-0.5 megabits a second on the line.",
            [("0.3", 0.3, "Mbps"), ("0.5 megabits a second", 0.5, "Mbps")],
        ),
        ("Downloads reached 8 megabits a second.", [("8 megabits a second", 8.0, "Mbps")]),
        ("The modem managed 56 kilobits a second.", [("56 kilobits a second", 56.0, "kbps")]),
    ],
)
def test_bits_a_second_are_a_rate(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("There were three times as many people at the rally.", [("three", 3.0, None)]),
        ("Prices rose four times more than wages.", [("four", 4.0, None)]),
        ("Sales were five times higher this year.", [("five", 5.0, None)]),
    ],
)
def test_a_multiplier_counts_no_times(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("That game is one Smith would be delighted to see.", [("one", 1.0, None)]),
        ("The proposal is one Labour would never accept.", [("one", 1.0, None)]),
        ("It is a game one Smith will love.", [("one", 1.0, None)]),
        # A name the number does count.
        ("Police said one Briton was killed.", [("one", 1.0, "briton")]),
        ("One Briton was killed in the attack.", [("One", 1.0, "briton")]),
    ],
)
def test_one_before_a_name_it_does_not_count_takes_no_unit(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


# --- Race times: on a clock, in parts, or bare in a race; always in seconds ------------------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("The Kenyan took the marathon in 2:09:41 last spring.", [("2:09:41", 7781.0, "second")]),
        ("Her winning time of 4:02.35 was a meeting record.", [("4:02.35", 242.35, "second")]),
        ("The ultra runner finished in 3hr 12min on Sunday.", [("3hr 12min", 11520.0, "second")]),
        ("She was timed at 15 minutes 10.52 seconds indoors.", [("15 minutes 10.52 seconds", 910.52, "second")]),
        ("He crossed the line in two minutes, 3.5 seconds.", [("two minutes, 3.5 seconds", 123.5, "second")]),
        (
            "She won in two hours, 21 minutes and 5 seconds.",
            [("two hours, 21 minutes and 5 seconds", 8465.0, "second")],
        ),
        # Two times of one size are two rows, not a sum.
        ("The pair ran 10.12secs and 10.15secs.", [("10.12secs", 10.12, "second"), ("10.15secs", 10.15, "second")]),
        # Bare two decimals after "in" or "clocking" in a race: seconds.
        (
            "Jones was third in the 60m hurdles, clocking 8.11 in the heats.",
            [("60m", 60.0, "metre"), ("8.11", 8.11, "second")],
        ),
        ("She finished fourth in 51.32 in the 400m final.", [("51.32", 51.32, "second"), ("400m", 400.0, "metre")]),
        # A long race writes minutes.seconds.
        ("He completed the 8km cross-country course in 27.45.", [("8km", 8.0, "km"), ("27.45", 1665.0, "second")]),
        # Not a race: the number stays as it is.
        ("The index closed at 6.45 in London on Friday.", [("6.45", 6.45, None)]),
        # A time of day is no quantity.
        ("The train leaves at 10:30 every morning.", []),
    ],
)
def test_race_times_are_seconds(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


# --- Distances in a race's sentence; a count verb is no sport -------------------------------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("She led the race through 1200m but faded on the last lap.", [("1200m", 1200.0, "metre")]),
        (
            "He moved down from the 400m to 200m and won in 20.90 secs.",
            [("400m", 400.0, "metre"), ("200m", 200.0, "metre"), ("20.90 secs", 20.9, "second")],
        ),
        ("The site's readers number 100m across the globe.", [("100m", 1e8, None)]),
        ("Profits fell from 400m to 200m last year.", [("400m", 4e8, None), ("200m", 2e8, None)]),
    ],
)
def test_distances_in_a_race_and_counts_outside_one(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


# --- Compound nouns: the unit keeps the common nouns compounded before the head --------------


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("Ministers set up two task forces on fraud.", [("two", 2.0, "task force")]),
        ("A 12-strong task force will report in May.", [("12-strong", 12.0, "task force")]),
        ("The city hired 400 police officers last year.", [("400", 400.0, "police officer")]),
        ("The troupe's 30-strong cast toured Europe.", [("30-strong", 30.0, "cast")]),
        # Names and number words are not part of the unit.
        ("Four Labour councillors resigned.", [("Four", 4.0, "councillor")]),
        (
            "She hired one of a dozen trainee pilots.",
            [("one", 1.0, "trainee pilot"), ("a dozen", 12.0, "trainee pilot")],
        ),
    ],
)
def test_compound_nouns_stay_in_the_unit(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


# --- More misreadings: entity words before the number, models, vague and participle counts ---


@pytest.mark.parametrize(
    "sentence, expected",
    [
        # A QUANTITY entity's word before the number is no measure.
        (
            "Between 2.5 and 3 million tourists visit each year.",
            [("2.5", 2.5e6, "tourist"), ("3 million", 3e6, "tourist")],
        ),
        ("Nearly a quarter of a million voters signed up.", [("a quarter of a million", 250_000.0, "voter")]),
        ("The airline ordered 40 Airbus 320-200 jets.", [("40", 40.0, "jet")]),
        ("Flooding hit several hundred homes.", []),
        ("Judges picked 12 from the 450 submitted.", [("12", 12.0, None), ("450", 450.0, None)]),
        ("The swimmer in lane four was disqualified.", []),
    ],
)
def test_vague_named_and_misparsed_numbers(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "The village has only a one-way road to the coast.",
        "A half-decent result would have kept him in the squad.",
        "The shop patented its one-click checkout.",
    ],
)
def test_a_number_word_in_an_adjective_is_no_quantity(nlp, sentence):
    assert rows(nlp, sentence) == []


# --- Audit fixes: entry-list headings, "the number of X", asides, plural names, hyphened nouns


@pytest.mark.parametrize(
    "text, expected",
    [
        # An event's heading in a team list, in an article about athletics: metres (was 2e8).
        (
            "The squad for the indoor championships was named on Monday.\n"
            "200m: Ann Smith (City Harriers), Joe Bloggs (Town AC).",
            [("200m", 200.0, "metre")],
        ),
        # The same shape with nothing about athletics stays millions.
        ("The company report was published on Monday.\n200m: the users it now claims.", [("200m", 2e8, None)]),
    ],
)
def test_a_race_distance_heading_an_entry_list_is_metres(nlp, text, expected):
    assert rows(nlp, text) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("The number of new shops in the town fell to 45 from 60.", [("45", 45.0, "shop"), ("60", 60.0, "shop")]),
        # "a number of X" is "some X": no count of X.
        ("A number of shops closed this year, while 45 stayed open.", [("45", 45.0, None)]),
    ],
)
def test_bare_counts_take_the_noun_of_the_number_of(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        # An aside in brackets between the number and "of the X".
        (
            "Almost half (48%) of the members voted for the plan.",
            [("half", 0.5, "member"), ("48%", 48.0, "percent")],
        ),
        ("Only three (or 2%) of the bridges were inspected.", [("three", 3.0, "bridge"), ("2%", 2.0, "percent")]),
    ],
)
def test_a_bracketed_aside_before_of_the_plural_noun(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        # The tagger calls these plural names NNP: counted by more than one, they are made singular.
        ("The chain runs 40 Sunshine Diners across Europe.", [("40", 40.0, "diner")]),
        ("The group now operates 25 Blue Moon Bakeries.", [("25", 25.0, "bakery")]),
    ],
)
def test_plural_names_are_made_singular(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("The director praised his three co-stars.", [("three", 3.0, "co-star")]),
        ("Fans bought 5,000 T-shirts at the gig.", [("5,000", 5000.0, "t-shirt")]),
        # A hyphened word before a gap is no part of the head: the compound rule still leaves it out.
        ("The festival booked 12 hip-hop acts.", [("12", 12.0, "act")]),
    ],
)
def test_a_hyphened_noun_is_kept_whole(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        # The parser hangs "members" on the names in the aside: the noun after the number wins.
        ("The jury has seven members - chairwoman Maria Lopez and Tom Green.", [("seven", 7.0, "member")]),
        (
            "The review board will have four members - chairman Alan Hughes and Petra Novak.",
            [("four", 4.0, "member")],
        ),
    ],
)
def test_the_noun_after_the_number_wins_over_an_aside(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected


@pytest.mark.parametrize(
    "sentence, expected",
    [
        # A fraction of a noun with its own number counts that noun, with the unit its number gets.
        (
            "Almost half of 3,000 people questioned said bus fares were too high.",
            [("half", 0.5, "people"), ("3,000", 3000.0, "people")],
        ),
        (
            "Half of 2 million households use the service.",
            [("Half", 0.5, "household"), ("2 million", 2e6, "household")],
        ),
        (
            "About two-thirds of the 300 nurses asked said they would leave.",
            [("two-thirds", 2 / 3, "nurse"), ("300", 300.0, "nurse")],
        ),
    ],
)
def test_a_fraction_of_a_counted_noun_counts_it(nlp, sentence, expected):
    assert rows(nlp, sentence) == expected
