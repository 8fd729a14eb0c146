//! The pipeline and the forecast against fixtures worked out by hand.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Session, TestApp, id_of};
use crate::on_both_backends;

on_both_backends!(
    the_pipeline_matches_hand_computed_figures,
    the_forecast_matches_hand_computed_figures,
    kept_totals_agree_with_the_deals_after_every_write,
    report_totals_at_the_money_bounds,
);

/// Copies the opportunity `id` `copies` times in SQL (new ids, same everything else), as a bulk
/// load would: the report-totals triggers run for every row.
async fn clone_deal(database_url: &str, id: &str, copies: usize) {
    use sqlx::Connection;
    let id = uuid::Uuid::parse_str(id).unwrap();
    if database_url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info('opportunities')")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let values: Vec<String> =
            columns.iter().map(|c| if c == "id" { "randomblob(16)".to_owned() } else { c.clone() }).collect();
        let sql = format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {copies}) \
             INSERT INTO opportunities ({}) SELECT {} FROM opportunities, n WHERE id = ?",
            columns.join(", "),
            values.join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(database_url).await.unwrap();
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'opportunities' ORDER BY ordinal_position",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let values: Vec<String> =
            columns.iter().map(|c| if c == "id" { "gen_random_uuid()".to_owned() } else { c.clone() }).collect();
        let sql = format!(
            "INSERT INTO opportunities ({}) SELECT {} FROM opportunities, generate_series(1, {copies}) WHERE id = $1",
            columns.join(", "),
            values.join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).execute(&mut conn).await.unwrap();
    }
}

async fn report_totals_at_the_money_bounds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let account = id_of(&app.post("/api/v1/accounts", &admin.token, &json!({"name": "Navy"})).await.expect(201).body);
    // The largest amount a deal may have, 10^15 minor units, at 100%: 9,223 of them sum to
    // 9,223 × 10^15 = 9,223,000,000,000,000,000, just under i64::MAX (9,223,372,036,854,775,807).
    let max = json!({"amount": 1_000_000_000_000_000_i64, "currency": "EUR"});
    let body = json!({"name": "Big", "account_id": account, "stage": "negotiation", "probability": 100,
                      "amount": max, "expected_close_date": "2027-01-15"});
    let first = deal(&app, &admin, body.clone()).await;
    clone_deal(&app.database_url, &id_of(&first), 9_222).await;
    let line = json!([{"stage": "negotiation", "currency": "EUR", "count": 9223,
                       "total_amount": 9_223_000_000_000_000_000_u64, "weighted_amount": 9_223_000_000_000_000_000_u64}]);
    let report = app.get("/api/v1/reports/pipeline", &admin.token).await.expect(200).body;
    assert_eq!(report["stages"], line);
    // Aggregated over the deals themselves (an account filter), the same.
    let by_account =
        app.get(&format!("/api/v1/reports/pipeline?account_id={account}"), &admin.token).await.expect(200).body;
    assert_eq!(by_account["stages"], line);
    let forecast =
        app.get("/api/v1/reports/forecast?from=2027-01-01&to=2027-01-31", &admin.token).await.expect(200).body;
    assert_eq!(forecast["periods"][0]["expected_amount"], json!(9_223_000_000_000_000_000_u64));
    // One deal more is an ordinary write: it succeeds, and the totals past 64 bits are the
    // reports' documented 422, whichever way they are read.
    deal(&app, &admin, body).await;
    for path in [
        "/api/v1/reports/pipeline".to_owned(),
        format!("/api/v1/reports/pipeline?account_id={account}"),
        "/api/v1/reports/pipeline?expected_close_after=2027-01-01".to_owned(),
        "/api/v1/reports/forecast?from=2027-01-01&to=2027-01-31".to_owned(),
        format!("/api/v1/reports/forecast?from=2027-01-01&to=2027-01-31&owner_id={}", admin.user_id),
    ] {
        app.get(&path, &admin.token).await.expect_problem(422, "amount_overflow");
    }
}

async fn deal(app: &TestApp, session: &Session, body: Value) -> Value {
    app.post("/api/v1/opportunities", &session.token, &body).await.expect(201).body
}

async fn close(app: &TestApp, session: &Session, id: &str, body: Value) {
    app.send(Method::POST, &format!("/api/v1/opportunities/{id}/close"), Some(&session.token), Some(&body), &[])
        .await
        .expect(200);
}

async fn the_pipeline_matches_hand_computed_figures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let account = app.post("/api/v1/accounts", &admin.token, &json!({"name": "Navy"})).await.expect(201).body;
    let other = app.post("/api/v1/accounts", &admin.token, &json!({"name": "Army"})).await.expect(201).body;
    let eur = |amount: i64| json!({"amount": amount, "currency": "EUR"});
    deal(&app, &admin, json!({"name": "A", "account_id": id_of(&account), "amount": eur(10000)})).await;
    deal(&app, &rep, json!({"name": "B", "account_id": id_of(&account), "amount": eur(333)})).await;
    deal(&app, &admin, json!({"name": "C", "account_id": id_of(&other), "stage": "proposal", "amount": {"amount": 2000, "currency": "USD"}})).await;
    deal(&app, &admin, json!({"name": "D", "account_id": id_of(&account), "stage": "negotiation", "probability": 75, "amount": eur(5000)})).await;
    let won = deal(&app, &admin, json!({"name": "E", "account_id": id_of(&account), "amount": eur(7000)})).await;
    close(&app, &admin, &id_of(&won), json!({"outcome": "won"})).await;
    deal(&app, &admin, json!({"name": "F", "account_id": id_of(&account), "stage": "qualification"})).await;
    let archived = deal(&app, &admin, json!({"name": "G", "account_id": id_of(&account), "amount": eur(999999)})).await;
    app.delete(&format!("/api/v1/opportunities/{}", id_of(&archived)), &admin.token).await.expect(200);

    let report = app.get("/api/v1/reports/pipeline", &admin.token).await.expect(200).body;
    // prospecting EUR: A 10000 at 10% + B 333 at 10% = 10333, weighted 1033.3 → 1033.
    // qualification, no amount: F. proposal USD: C 2000 at 60% = 1200. negotiation EUR: D 5000 at 75% = 3750.
    // E is closed, G archived: neither counts.
    assert_eq!(
        report["stages"],
        json!([
            {"stage": "prospecting", "currency": "EUR", "count": 2, "total_amount": 10333, "weighted_amount": 1033},
            {"stage": "qualification", "currency": null, "count": 1, "total_amount": 0, "weighted_amount": 0},
            {"stage": "proposal", "currency": "USD", "count": 1, "total_amount": 2000, "weighted_amount": 1200},
            {"stage": "negotiation", "currency": "EUR", "count": 1, "total_amount": 5000, "weighted_amount": 3750},
        ])
    );
    assert_eq!(
        report["totals"],
        json!([
            {"currency": null, "count": 1, "total_amount": 0, "weighted_amount": 0},
            {"currency": "EUR", "count": 3, "total_amount": 15333, "weighted_amount": 4783},
            {"currency": "USD", "count": 1, "total_amount": 2000, "weighted_amount": 1200},
        ])
    );
    assert_eq!(report["as_of"], Value::Null);
    let mine =
        app.get(&format!("/api/v1/reports/pipeline?owner_id={}", rep.user_id), &admin.token).await.expect(200).body;
    assert_eq!(
        mine["stages"],
        json!([{"stage": "prospecting", "currency": "EUR", "count": 1, "total_amount": 333, "weighted_amount": 33}])
    );
    let army =
        app.get(&format!("/api/v1/reports/pipeline?account_id={}", id_of(&other)), &admin.token).await.expect(200).body;
    assert_eq!(army["totals"], json!([{"currency": "USD", "count": 1, "total_amount": 2000, "weighted_amount": 1200}]));
    // Before anything existed the pipeline was empty; at the end of today it is what it is now.
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
    let past = app.get(&format!("/api/v1/reports/pipeline?as_of={yesterday}"), &admin.token).await.expect(200).body;
    assert_eq!(past["stages"], json!([]));
    assert_eq!(past["as_of"], yesterday.to_string());
    let today = chrono::Utc::now().date_naive();
    let now = app.get(&format!("/api/v1/reports/pipeline?as_of={today}"), &admin.token).await.expect(200).body;
    assert_eq!(now["stages"], report["stages"]);
    for query in ["as_of=yesterday", "owner_id=x", "stage=open"] {
        let reply = app.get(&format!("/api/v1/reports/pipeline?{query}"), &admin.token).await;
        assert_eq!(reply.status.as_u16(), 400, "{query}: {}", reply.text);
    }
    let globex = app.signup("Globex", "hank@globex.example").await;
    assert_eq!(app.get("/api/v1/reports/pipeline", &globex.token).await.expect(200).body["stages"], json!([]));
}

async fn the_forecast_matches_hand_computed_figures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let account = id_of(&app.post("/api/v1/accounts", &admin.token, &json!({"name": "Navy"})).await.expect(201).body);
    let eur = |amount: i64| json!({"amount": amount, "currency": "EUR"});
    deal(&app, &admin, json!({"name": "X", "account_id": account, "stage": "negotiation", "amount": eur(10000), "expected_close_date": "2027-01-15"})).await;
    deal(&app, &admin, json!({"name": "Y", "account_id": account, "stage": "proposal", "amount": eur(5000), "expected_close_date": "2027-03-10"})).await;
    deal(
        &app,
        &admin,
        json!({"name": "W", "account_id": account, "amount": eur(999), "expected_close_date": "2027-04-01"}),
    )
    .await;
    let z = deal(
        &app,
        &admin,
        json!({"name": "Z", "account_id": account, "amount": eur(3000), "expected_close_date": "2027-02-01"}),
    )
    .await;
    close(&app, &admin, &id_of(&z), json!({"outcome": "won", "closed_at": "2027-02-20T23:30:00Z"})).await;

    let monthly =
        app.get("/api/v1/reports/forecast?from=2027-01-01&to=2027-03-31", &admin.token).await.expect(200).body;
    assert_eq!(monthly["interval"], "month");
    // January: X 10000 at 80% = 8000. February: Z won, 3000. March: Y 5000 at 60% = 3000. W is in April.
    assert_eq!(
        monthly["periods"],
        json!([
            {"period": "2027-01", "currency": "EUR", "open_count": 1, "expected_amount": 10000, "weighted_amount": 8000, "won_count": 0, "won_amount": 0},
            {"period": "2027-02", "currency": "EUR", "open_count": 0, "expected_amount": 0, "weighted_amount": 0, "won_count": 1, "won_amount": 3000},
            {"period": "2027-03", "currency": "EUR", "open_count": 1, "expected_amount": 5000, "weighted_amount": 3000, "won_count": 0, "won_amount": 0},
        ])
    );
    let quarterly = app
        .get("/api/v1/reports/forecast?from=2027-01-01&to=2027-06-30&interval=quarter", &admin.token)
        .await
        .expect(200)
        .body;
    assert_eq!(
        quarterly["periods"],
        json!([
            {"period": "2027-Q1", "currency": "EUR", "open_count": 2, "expected_amount": 15000, "weighted_amount": 11000, "won_count": 1, "won_amount": 3000},
            {"period": "2027-Q2", "currency": "EUR", "open_count": 1, "expected_amount": 999, "weighted_amount": 100, "won_count": 0, "won_amount": 0},
        ])
    );
    for query in [
        "from=2027-01-01",
        "from=2027-02-01&to=2027-01-01",
        "from=2020-01-01&to=2031-01-01",
        "from=2027-01-01&to=2027-02-01&interval=week",
    ] {
        let reply = app.get(&format!("/api/v1/reports/forecast?{query}"), &admin.token).await;
        assert_eq!(reply.status.as_u16(), 400, "{query}: {}", reply.text);
    }
}

/// The pipeline without filters and the forecast for everyone read totals that triggers keep on
/// every opportunity write; the same reports filtered by the one account or by every owner
/// aggregate the deals themselves. After each kind of write the two must agree, and the end
/// state is checked against figures worked out by hand.
async fn kept_totals_agree_with_the_deals_after_every_write(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let rep = app.add_user(&admin, "rep@example.com", "sales_rep").await;
    let account = id_of(&app.post("/api/v1/accounts", &admin.token, &json!({"name": "Navy"})).await.expect(201).body);
    let owners = format!("{},{}", admin.user_id, rep.user_id);
    let dates = "expected_close_after=2027-01-01&expected_close_before=2027-12-31";
    let check = |step: &'static str| {
        let (app, token, account, owners) = (&app, admin.token.clone(), account.clone(), owners.clone());
        async move {
            for (kept, computed) in [
                ("/api/v1/reports/pipeline".to_owned(), format!("/api/v1/reports/pipeline?account_id={account}")),
                (
                    format!("/api/v1/reports/pipeline?{dates}"),
                    format!("/api/v1/reports/pipeline?{dates}&account_id={account}"),
                ),
                (
                    "/api/v1/reports/forecast?from=2027-01-01&to=2027-12-31".to_owned(),
                    format!("/api/v1/reports/forecast?from=2027-01-01&to=2027-12-31&owner_id={owners}"),
                ),
            ] {
                let kept_body = app.get(&kept, &token).await.expect(200).body;
                let computed_body = app.get(&computed, &token).await.expect(200).body;
                for key in ["stages", "totals", "periods"] {
                    assert_eq!(kept_body[key], computed_body[key], "{step}: {kept} against {computed}");
                }
            }
        }
    };
    let eur = |amount: i64| json!({"amount": amount, "currency": "EUR"});
    let d1 = id_of(
        &deal(
            &app,
            &admin,
            json!({"name": "D1", "account_id": account, "amount": eur(1000), "expected_close_date": "2027-02-10"}),
        )
        .await,
    );
    let d2 = id_of(&deal(&app, &rep, json!({"name": "D2", "account_id": account, "stage": "proposal", "amount": {"amount": 2000, "currency": "USD"}, "expected_close_date": "2027-03-05"})).await);
    let d3 = id_of(
        &deal(
            &app,
            &admin,
            json!({"name": "D3", "account_id": account, "stage": "qualification", "expected_close_date": "2027-02-11"}),
        )
        .await,
    );
    let d4 = id_of(&deal(&app, &admin, json!({"name": "D4", "account_id": account, "stage": "negotiation", "probability": 75, "amount": eur(4000), "expected_close_date": "2027-05-01"})).await);
    check("created").await;
    let path = |id: &str| format!("/api/v1/opportunities/{id}");
    app.patch(&path(&d1), &admin.token, &json!({"stage": "needs_analysis", "amount": eur(1500)})).await.expect(200);
    check("stage and amount").await;
    app.patch(&path(&d2), &admin.token, &json!({"owner_id": admin.user_id, "amount": eur(2500)})).await.expect(200);
    check("owner and currency").await;
    app.patch(&path(&d3), &admin.token, &json!({"expected_close_date": "2027-06-30", "amount": eur(300)}))
        .await
        .expect(200);
    check("close date and a first amount").await;
    close(&app, &admin, &d4, json!({"outcome": "won", "closed_at": "2027-04-10T12:00:00Z"})).await;
    check("won").await;
    close(&app, &admin, &d1, json!({"outcome": "lost", "reason": "Price"})).await;
    check("lost").await;
    app.send(Method::POST, &format!("{}/reopen", path(&d1)), Some(&admin.token), None, &[]).await.expect(200);
    check("reopened").await;
    app.delete(&path(&d2), &admin.token).await.expect(200);
    check("archived").await;
    app.send(Method::POST, &format!("{}/restore", path(&d2)), Some(&admin.token), None, &[]).await.expect(200);
    app.delete(&path(&d3), &admin.token).await.expect(200);
    check("restored and archived").await;
    app.patch(&path(&d1), &admin.token, &json!({"probability": 33, "name": "D1 renamed"})).await.expect(200);
    app.patch(&path(&d2), &admin.token, &json!({"name": "only a name"})).await.expect(200);
    check("probability and name").await;

    // D1 needs_analysis EUR 1500 at 33% (2027-02-10), D2 proposal EUR 2500 at 60% (2027-03-05),
    // D3 archived, D4 won EUR 4000 on 2027-04-10.
    let pipeline = app.get("/api/v1/reports/pipeline", &admin.token).await.expect(200).body;
    assert_eq!(
        pipeline["stages"],
        json!([
            {"stage": "needs_analysis", "currency": "EUR", "count": 1, "total_amount": 1500, "weighted_amount": 495},
            {"stage": "proposal", "currency": "EUR", "count": 1, "total_amount": 2500, "weighted_amount": 1500},
        ])
    );
    let forecast = app
        .get("/api/v1/reports/forecast?from=2027-01-01&to=2027-12-31&interval=quarter", &admin.token)
        .await
        .expect(200)
        .body;
    assert_eq!(
        forecast["periods"],
        json!([
            {"period": "2027-Q1", "currency": "EUR", "open_count": 2, "expected_amount": 4000, "weighted_amount": 1995, "won_count": 0, "won_amount": 0},
            {"period": "2027-Q2", "currency": "EUR", "open_count": 0, "expected_amount": 0, "weighted_amount": 0, "won_count": 1, "won_amount": 4000},
            {"period": "2027-Q3", "currency": "EUR", "open_count": 0, "expected_amount": 0, "weighted_amount": 0, "won_count": 0, "won_amount": 0},
            {"period": "2027-Q4", "currency": "EUR", "open_count": 0, "expected_amount": 0, "weighted_amount": 0, "won_count": 0, "won_amount": 0},
        ])
    );
    let rep_only =
        app.get(&format!("/api/v1/reports/pipeline?owner_id={}", rep.user_id), &admin.token).await.expect(200).body;
    assert_eq!(rep_only["stages"], json!([]), "D2 changed owner");
}
