use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_ok_without_a_token() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"code": 0, "msg": "OK"}));
}
