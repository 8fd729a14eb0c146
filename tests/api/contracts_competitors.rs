//! Contract tests of the competitor repositories, called directly on both backends.

use std::sync::Arc;

use crm_domain::RepoError;
use crm_domain::account::Account;
use crm_domain::audit::AuditAction;
use crm_domain::competitor::{
    Competitor, CompetitorDraft, CompetitorPatch, CompetitorProduct, CompetitorProductDraft, CompetitorProductPatch,
    CompetitorProductQuery, CompetitorQuery, CompetitorSortField, DealCompetitor, ThreatLevel,
};
use crm_domain::competitor_report::CompetitorReportQuery;
use crm_domain::lead::ArchivedFilter;
use crm_domain::list::{Sort, SortDirection, Window};
use crm_domain::money::{Currency, Money};
use crm_domain::opportunity::{Opportunity, OpportunityDraft, Outcome};
use crm_domain::ports::Store;
use crm_domain::product::{Percent, Product, ProductDraft, Sku};
use crm_domain::user::User;
use crm_domain::value::{CustomFields, LongText, Name};
use uuid::Uuid;

use crate::contracts::{ctx, first_page, now, open, seed};
use crate::helpers::Backend;
use crate::on_both_backends;

on_both_backends!(competitors_and_their_products, deal_competitors_and_deals_lost_to_them);

fn eur(amount: i64) -> Money {
    Money { amount, currency: Currency::parse("currency", "EUR").unwrap_or_else(|e| panic!("{e:?}")) }
}

fn competitor_draft(name: &str) -> CompetitorDraft {
    CompetitorDraft {
        name: Name::from_trusted(name.to_owned()),
        website: None,
        strengths: Some(LongText::from_trusted("Cheap".to_owned())),
        weaknesses: None,
        notes: None,
        custom_fields: Some(CustomFields::from_trusted("{\"region\":\"EMEA\"}".to_owned())),
    }
}

async fn insert_competitor(store: &Arc<dyn Store>, admin: &User, name: &str) -> Competitor {
    let competitor = Competitor::create(Uuid::now_v7(), admin.organization_id, admin.id, competitor_draft(name), now());
    store.insert_competitor(&competitor, &ctx(admin)).await.unwrap();
    competitor
}

fn product_draft(name: &str, price: Money, compared: Option<Uuid>) -> CompetitorProductDraft {
    CompetitorProductDraft {
        name: Name::from_trusted(name.to_owned()),
        price,
        compared_product_id: compared,
        notes: None,
    }
}

async fn competitors_and_their_products(backend: Backend) {
    let (store, _dir) = open(&backend).await;
    let (organization, admin) = seed(&store, "admin@example.com").await;
    let (other_org, _) = seed(&store, "other@example.com").await;
    let zuse = insert_competitor(&store, &admin, "Zuse").await;
    let babbage = insert_competitor(&store, &admin, "Babbage").await;
    assert_eq!(store.get::<Competitor>(organization.id, zuse.id).await.ok(), Some(zuse.clone()));
    assert!(matches!(store.get::<Competitor>(other_org.id, zuse.id).await, Err(RepoError::NotFound)));

    let patch = CompetitorPatch { notes: Some(Some(LongText::from_trusted("Met".to_owned()))), ..Default::default() };
    let (edited, changes) = zuse.apply(&patch, now()).unwrap();
    store.save(&edited, 1, AuditAction::Update, &changes, &ctx(&admin)).await.unwrap();
    assert!(matches!(
        store.save(&edited, 1, AuditAction::Update, &changes, &ctx(&admin)).await,
        Err(RepoError::VersionMismatch { current: 2 })
    ));
    let (archived, changes) = crm_domain::record::archive(&edited, now()).unwrap();
    store.save(&archived, 2, AuditAction::Archive, &changes, &ctx(&admin)).await.unwrap();
    let query = CompetitorQuery {
        search: None,
        archived: ArchivedFilter::Exclude,
        sort: Sort { field: CompetitorSortField::Name, direction: SortDirection::Ascending },
        window: Window { limit: 10, after: None },
    };
    assert_eq!(
        store.list_competitors(organization.id, &query).await.map(|p| p.items).ok(),
        Some(vec![babbage.clone()])
    );
    let all = CompetitorQuery { archived: ArchivedFilter::Include, ..query.clone() };
    let names = |page: Result<crm_domain::list::Page<Competitor>, RepoError>| {
        page.map(|p| p.items.iter().map(|c| c.name.as_str().to_owned()).collect::<Vec<_>>()).unwrap_or_default()
    };
    assert_eq!(names(store.list_competitors(organization.id, &all).await), ["Babbage", "Zuse"]);
    let searched = CompetitorQuery { search: Some("ZU".to_owned()), ..all.clone() };
    assert_eq!(names(store.list_competitors(organization.id, &searched).await), ["Zuse"]);
    assert_eq!(names(store.list_competitors(other_org.id, &all).await).len(), 0);

    // Products: the compared product must be one of the organisation's.
    let ours = Product::create(
        Uuid::now_v7(),
        organization.id,
        admin.id,
        ProductDraft {
            name: Name::from_trusted("Engine".to_owned()),
            sku: Sku::from_trusted("ENG".to_owned()),
            description: None,
            unit_price: eur(10000),
            tax_rate: Some(Percent::from_hundredths(0)),
            active: None,
            custom_fields: None,
        },
        now(),
    );
    store.insert_product(&ours, &ctx(&admin)).await.unwrap();
    let mill = CompetitorProduct::create(
        Uuid::now_v7(),
        &babbage,
        admin.id,
        product_draft("Mill", eur(9000), Some(ours.id)),
        now(),
    )
    .unwrap();
    store.insert_competitor_product(&mill, &ctx(&admin)).await.unwrap();
    let stray = CompetitorProduct::create(
        Uuid::now_v7(),
        &babbage,
        admin.id,
        product_draft("Stray", eur(1), Some(Uuid::now_v7())),
        now(),
    )
    .unwrap();
    assert!(matches!(
        store.insert_competitor_product(&stray, &ctx(&admin)).await,
        Err(RepoError::MissingReference { field: "compared_product_id" })
    ));
    let mut orphan =
        CompetitorProduct::create(Uuid::now_v7(), &babbage, admin.id, product_draft("Orphan", eur(1), None), now())
            .unwrap();
    orphan.competitor_id = Uuid::now_v7();
    assert!(matches!(
        store.insert_competitor_product(&orphan, &ctx(&admin)).await,
        Err(RepoError::MissingReference { field: "competitor_id" })
    ));
    let store_product =
        CompetitorProduct::create(Uuid::now_v7(), &babbage, admin.id, product_draft("Store", eur(5), None), now())
            .unwrap();
    store.insert_competitor_product(&store_product, &ctx(&admin)).await.unwrap();
    assert_eq!(store.get_competitor_product(organization.id, babbage.id, mill.id).await.ok(), Some(mill.clone()));
    assert!(matches!(store.get_competitor_product(organization.id, zuse.id, mill.id).await, Err(RepoError::NotFound)));
    assert!(matches!(store.get_competitor_product(other_org.id, babbage.id, mill.id).await, Err(RepoError::NotFound)));

    let patch =
        CompetitorProductPatch { price: Some(eur(9500)), compared_product_id: Some(None), ..Default::default() };
    let (cheaper, changes) = mill.apply(&babbage, &patch, now()).unwrap();
    store.update_competitor_product(&cheaper, 1, &changes, &ctx(&admin)).await.unwrap();
    assert!(matches!(
        store.update_competitor_product(&cheaper, 1, &changes, &ctx(&admin)).await,
        Err(RepoError::VersionMismatch { current: 2 })
    ));
    assert_eq!(store.get_competitor_product(organization.id, babbage.id, mill.id).await.ok(), Some(cheaper.clone()));
    let query = CompetitorProductQuery {
        competitor_id: babbage.id,
        search: None,
        compared_product_id: None,
        sort: Sort { field: CompetitorSortField::Name, direction: SortDirection::Descending },
        window: Window { limit: 10, after: None },
    };
    let product_names = |page: Result<crm_domain::list::Page<CompetitorProduct>, RepoError>| {
        page.map(|p| p.items.iter().map(|c| c.name.as_str().to_owned()).collect::<Vec<_>>()).unwrap_or_default()
    };
    assert_eq!(product_names(store.list_competitor_products(organization.id, &query).await), ["Store", "Mill"]);
    let searched = CompetitorProductQuery { search: Some("MIL".to_owned()), ..query.clone() };
    assert_eq!(product_names(store.list_competitor_products(organization.id, &searched).await), ["Mill"]);
    assert_eq!(product_names(store.list_competitor_products(other_org.id, &query).await).len(), 0);

    assert!(matches!(
        store.delete_competitor_product(&cheaper, 1, &cheaper.deletion_changes(), &ctx(&admin)).await,
        Err(RepoError::VersionMismatch { current: 2 })
    ));
    store.delete_competitor_product(&cheaper, 2, &cheaper.deletion_changes(), &ctx(&admin)).await.unwrap();
    assert!(matches!(
        store.delete_competitor_product(&cheaper, 2, &cheaper.deletion_changes(), &ctx(&admin)).await,
        Err(RepoError::NotFound)
    ));
    assert_eq!(product_names(store.list_competitor_products(organization.id, &query).await), ["Store"]);
}

async fn deal_competitors_and_deals_lost_to_them(backend: Backend) {
    let (store, _dir) = open(&backend).await;
    let (organization, admin) = seed(&store, "admin@example.com").await;
    let (other_org, other_admin) = seed(&store, "other@example.com").await;
    let buyer = Account::create(
        Uuid::now_v7(),
        organization.id,
        admin.id,
        crm_domain::account::AccountDraft {
            name: Name::from_trusted("Navy".to_owned()),
            industry: None,
            website: None,
            phone: None,
            email: None,
            billing_address: None,
            shipping_address: None,
            employee_count: None,
            annual_revenue: None,
            tier: None,
            lifecycle_stage: None,
            tags: crm_domain::address::Tags::default(),
            parent_account_id: None,
            owner_id: None,
            description: None,
            custom_fields: None,
        },
        now(),
    )
    .unwrap();
    store.insert_account(&buyer, &ctx(&admin)).await.unwrap();
    let draft = OpportunityDraft {
        name: Name::from_trusted("Deal".to_owned()),
        account_id: Some(buyer.id),
        contact_id: None,
        amount: Some(eur(1000)),
        stage: None,
        probability: None,
        expected_close_date: None,
        kind: None,
        lead_source: None,
        next_step: None,
        owner_id: None,
        description: None,
        custom_fields: None,
    };
    let (deal, first) = Opportunity::create(Uuid::now_v7(), organization.id, admin.id, draft, now()).unwrap();
    store.insert_opportunity(&deal, &first, &ctx(&admin)).await.unwrap();
    let babbage = insert_competitor(&store, &admin, "Babbage").await;
    let zuse = insert_competitor(&store, &admin, "Zuse").await;
    let foreign = insert_competitor(&store, &other_admin, "Foreign").await;

    let (low, change) = DealCompetitor::set(&deal, &zuse, None, ThreatLevel::Low, None, now()).unwrap();
    store.put_deal_competitor(organization.id, &low, &change, &ctx(&admin)).await.unwrap();
    let (high, change) = DealCompetitor::set(&deal, &babbage, None, ThreatLevel::High, None, now()).unwrap();
    store.put_deal_competitor(organization.id, &high, &change, &ctx(&admin)).await.unwrap();
    assert_eq!(store.deal_competitors(organization.id, deal.id).await.ok(), Some(vec![high.clone(), low.clone()]));
    assert_eq!(store.deal_competitors(other_org.id, deal.id).await.map(|l| l.len()).ok(), Some(0));
    // Changing a place keeps one row.
    let (medium, change) = DealCompetitor::set(&deal, &zuse, Some(&low), ThreatLevel::Medium, None, now()).unwrap();
    store.put_deal_competitor(organization.id, &medium, &change, &ctx(&admin)).await.unwrap();
    assert_eq!(store.deal_competitors(organization.id, deal.id).await.ok(), Some(vec![high.clone(), medium.clone()]));
    let mut stranger = medium.clone();
    stranger.competitor_id = foreign.id;
    assert!(matches!(
        store.put_deal_competitor(organization.id, &stranger, &change, &ctx(&admin)).await,
        Err(RepoError::MissingReference { field: "competitor_id" })
    ));
    store.delete_deal_competitor(organization.id, deal.id, zuse.id, &change, &ctx(&admin)).await.unwrap();
    assert!(matches!(
        store.delete_deal_competitor(organization.id, deal.id, zuse.id, &change, &ctx(&admin)).await,
        Err(RepoError::NotFound)
    ));

    // Closing lost to Zuse (no longer in the deal) adds it as a high threat, in one transaction.
    let (lost, changes, stage) = deal.close(Outcome::Lost, None, Some(zuse.id), now(), admin.id, now()).unwrap();
    let (link, link_change) = DealCompetitor::lost_to(deal.id, zuse.id, now());
    // A foreign competitor is refused, and nothing is written.
    let (foreign_link, foreign_change) = DealCompetitor::lost_to(deal.id, foreign.id, now());
    let mut lost_to_foreign = lost.clone();
    lost_to_foreign.lost_to_competitor_id = Some(foreign.id);
    assert!(matches!(
        store
            .close_lost_to_competitor(
                &lost_to_foreign,
                1,
                &changes,
                &stage,
                &foreign_link,
                &foreign_change,
                &ctx(&admin)
            )
            .await,
        Err(RepoError::MissingReference { field: "lost_to_competitor_id" })
    ));
    assert_eq!(store.get::<Opportunity>(organization.id, deal.id).await.ok(), Some(deal.clone()));
    store.close_lost_to_competitor(&lost, 1, &changes, &stage, &link, &link_change, &ctx(&admin)).await.unwrap();
    assert!(matches!(
        store.close_lost_to_competitor(&lost, 1, &changes, &stage, &link, &link_change, &ctx(&admin)).await,
        Err(RepoError::VersionMismatch { current: 2 })
    ));
    assert_eq!(store.get::<Opportunity>(organization.id, deal.id).await.ok(), Some(lost.clone()));
    let links = store.deal_competitors(organization.id, deal.id).await.unwrap();
    assert_eq!(
        links.iter().map(|l| (l.competitor_id, l.threat_level)).collect::<Vec<_>>(),
        vec![(babbage.id, ThreatLevel::High), (zuse.id, ThreatLevel::High)]
    );
    let history = store.stage_history(organization.id, deal.id, &first_page()).await.unwrap().items;
    assert_eq!(history.last().map(|h| h.change.clone()), Some(stage));

    // The report's groups.
    let (deals, losses, gaps) =
        store.competitor_report_groups(organization.id, &CompetitorReportQuery::default()).await.unwrap();
    assert_eq!(
        deals.iter().map(|d| (d.name.as_str().to_owned(), d.opportunities, d.won, d.open)).collect::<Vec<_>>(),
        vec![("Babbage".to_owned(), 1, 0, 0), ("Zuse".to_owned(), 1, 0, 0)]
    );
    assert_eq!(
        losses.iter().map(|l| (l.competitor_id, l.count, l.amount)).collect::<Vec<_>>(),
        vec![(zuse.id, 1, 1000)]
    );
    assert!(gaps.is_empty());
    let nobody = CompetitorReportQuery { owner_ids: vec![Uuid::now_v7()], ..CompetitorReportQuery::default() };
    let (deals, losses, _) = store.competitor_report_groups(organization.id, &nobody).await.unwrap();
    assert_eq!(deals.iter().map(|d| d.opportunities).sum::<i64>(), 0);
    assert!(losses.is_empty());
    let (deals, _, _) = store.competitor_report_groups(other_org.id, &CompetitorReportQuery::default()).await.unwrap();
    assert_eq!(deals.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["Foreign"]);
}
