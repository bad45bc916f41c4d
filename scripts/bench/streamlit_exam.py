"""The peer: a Streamlit exam page that mirrors the gateway's student page, as small as it can
be (so what it costs is a lower bound on a real quiz page): one question at a time, its options
as a radio group, Next. The answer is kept in the session's state when it is chosen (our
gateway stores it durably before acknowledging), Next goes to the following question."""

import streamlit as st

QUESTIONS = [
    (
        f"Question {n + 1}: which statement about the lecture's topic {n + 1} is correct?",
        [f"Option {chr(65 + k)} of question {n + 1}" for k in range(4)],
    )
    for n in range(20)
]

if "current" not in st.session_state:
    st.session_state.current = 0
    st.session_state.answers = {}

st.title("Exam")
n = st.session_state.current % len(QUESTIONS)
text, options = QUESTIONS[n]
st.caption(f"{n + 1} of {len(QUESTIONS)}")


def saved(n=n):
    st.session_state.answers[n] = st.session_state[f"q{n}"]


st.radio(text, options, index=None, key=f"q{n}", on_change=saved)
if st.button("Next"):
    st.session_state.current += 1
    st.rerun()
