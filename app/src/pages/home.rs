//! `/`: pick a role.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Home() -> impl IntoView {
    view! {
        <Title text="Exams" />
        <main class="page">
            <h1>"Exams from your lecture notes"</h1>
            <p class="lead">"Upload a lecture PDF, review the generated questions, publish, and watch results arrive."</p>
            <div class="cards two">
                <a class="card link-card" href="/teacher">
                    <h2>"I teach"</h2>
                    <p>"Upload a document, choose how many questions, review and publish the exam."</p>
                </a>
                <a class="card link-card" href="/join">
                    <h2>"I am a student"</h2>
                    <p>"Join an exam with the code your teacher gives you. Your answers are saved as you go."</p>
                </a>
            </div>
        </main>
    }
}
