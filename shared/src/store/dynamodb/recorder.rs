//! What IAM checks for a DynamoDB call, for the call recorder of
//! [`crate::aws_calls`] (tests only, feature `aws-recording`).
//!
//! Most operations are their own action on the table they name. A
//! transaction is not an action: IAM authorizes each item it carries, a
//! `TransactWriteItems` as the `PutItem`, `UpdateItem`, `DeleteItem` or
//! `ConditionCheckItem` of each, a `TransactGetItems` as a `GetItem` of
//! each. A query or scan of an index is checked on the index.

use aws_sdk_dynamodb::operation::{
    batch_get_item::BatchGetItemInput, batch_write_item::BatchWriteItemInput, create_table::CreateTableInput,
    delete_item::DeleteItemInput, delete_table::DeleteTableInput, describe_table::DescribeTableInput,
    describe_time_to_live::DescribeTimeToLiveInput, get_item::GetItemInput, put_item::PutItemInput,
    query::QueryInput, scan::ScanInput, transact_get_items::TransactGetItemsInput,
    transact_write_items::TransactWriteItemsInput, update_item::UpdateItemInput,
    update_table::UpdateTableInput, update_time_to_live::UpdateTimeToLiveInput,
};
use aws_smithy_runtime_api::client::interceptors::context::Input;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use crate::aws_calls::Check;

const SERVICE: &str = "dynamodb";

/// The checks IAM makes for the operation `meta` names with `input`.
pub(crate) fn checks(meta: &Metadata, input: &Input) -> Vec<Check> {
    let on = |action: &str, table: Option<&str>| vec![Check::new(SERVICE, action, table_arn(table))];
    if let Some(i) = input.downcast_ref::<TransactWriteItemsInput>() {
        return i.transact_items().iter().filter_map(contained_write).collect();
    }
    if let Some(i) = input.downcast_ref::<TransactGetItemsInput>() {
        let gets = i.transact_items().iter().filter_map(|t| t.get());
        return gets.map(|g| Check::new(SERVICE, "GetItem", table_arn(Some(g.table_name())))).collect();
    }
    if let Some(i) = input.downcast_ref::<BatchGetItemInput>() {
        return per_table(meta.name(), i.request_items().into_iter().flat_map(|m| m.keys()));
    }
    if let Some(i) = input.downcast_ref::<BatchWriteItemInput>() {
        return per_table(meta.name(), i.request_items().into_iter().flat_map(|m| m.keys()));
    }
    if let Some(i) = input.downcast_ref::<QueryInput>() {
        return vec![Check::new(SERVICE, meta.name(), index_arn(i.table_name(), i.index_name()))];
    }
    if let Some(i) = input.downcast_ref::<ScanInput>() {
        return vec![Check::new(SERVICE, meta.name(), index_arn(i.table_name(), i.index_name()))];
    }
    macro_rules! on_its_table {
        ($($input:ty),*) => {
            $(if let Some(i) = input.downcast_ref::<$input>() {
                return on(meta.name(), i.table_name());
            })*
        };
    }
    on_its_table!(
        GetItemInput,
        PutItemInput,
        UpdateItemInput,
        DeleteItemInput,
        DescribeTableInput,
        CreateTableInput,
        UpdateTableInput,
        DeleteTableInput,
        DescribeTimeToLiveInput,
        UpdateTimeToLiveInput
    );
    // An operation not listed here: recorded on every resource, which the
    // check refuses unless a policy grants it on `*`, so it is noticed.
    vec![Check::new(SERVICE, meta.name(), "*")]
}

fn contained_write(item: &aws_sdk_dynamodb::types::TransactWriteItem) -> Option<Check> {
    let (action, table) = if let Some(p) = item.put() {
        ("PutItem", p.table_name())
    } else if let Some(u) = item.update() {
        ("UpdateItem", u.table_name())
    } else if let Some(d) = item.delete() {
        ("DeleteItem", d.table_name())
    } else {
        ("ConditionCheckItem", item.condition_check()?.table_name())
    };
    Some(Check::new(SERVICE, action, table_arn(Some(table))))
}

fn per_table<'a>(action: &str, tables: impl Iterator<Item = &'a String>) -> Vec<Check> {
    tables.map(|t| Check::new(SERVICE, action, table_arn(Some(t)))).collect()
}

/// `table/NAME`, the table's ARN after the account (the SDK takes a name
/// or a whole ARN).
fn table_arn(table: Option<&str>) -> String {
    match table {
        Some(t) if t.starts_with("arn:") => t.splitn(6, ':').nth(5).unwrap_or(t).to_owned(),
        Some(t) => format!("table/{t}"),
        None => "table/*".to_owned(),
    }
}

fn index_arn(table: Option<&str>, index: Option<&str>) -> String {
    match index {
        Some(i) => format!("{}/index/{i}", table_arn(table)),
        None => table_arn(table),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};

    use super::*;

    fn checked(operation: &'static str, input: impl std::fmt::Debug + Send + Sync + 'static) -> Vec<String> {
        let meta = Metadata::new(operation, "DynamoDB");
        checks(&meta, &Input::erase(input))
            .into_iter()
            .map(|c| format!("{} {}", c.action, c.resource))
            .collect()
    }

    #[test]
    fn a_write_transaction_is_checked_as_the_write_of_each_item() {
        let key = || std::collections::HashMap::from([("pk".to_owned(), super::super::s("k"))]);
        let items = vec![
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name("t")
                        .set_key(Some(key()))
                        .update_expression("SET a = :a")
                        .build()
                        .unwrap(),
                )
                .build(),
            TransactWriteItem::builder()
                .put(Put::builder().table_name("t").set_item(Some(key())).build().unwrap())
                .build(),
            TransactWriteItem::builder()
                .delete(Delete::builder().table_name("t").set_key(Some(key())).build().unwrap())
                .build(),
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name("t")
                        .set_key(Some(key()))
                        .condition_expression("attribute_exists(pk)")
                        .build()
                        .unwrap(),
                )
                .build(),
        ];
        let input = TransactWriteItemsInput::builder().set_transact_items(Some(items)).build().unwrap();
        assert_eq!(
            checked("TransactWriteItems", input),
            [
                "dynamodb:UpdateItem table/t",
                "dynamodb:PutItem table/t",
                "dynamodb:DeleteItem table/t",
                "dynamodb:ConditionCheckItem table/t"
            ]
        );
    }

    #[test]
    fn single_item_calls_and_index_queries_are_checked_on_what_they_name() {
        assert_eq!(
            checked("UpdateItem", UpdateItemInput::builder().table_name("t").build().unwrap()),
            ["dynamodb:UpdateItem table/t"]
        );
        assert_eq!(
            checked("Query", QueryInput::builder().table_name("t").index_name("by-email").build().unwrap()),
            ["dynamodb:Query table/t/index/by-email"]
        );
        assert_eq!(
            checked(
                "GetItem",
                GetItemInput::builder().table_name("arn:aws:dynamodb:eu-west-1:123:table/t").build().unwrap()
            ),
            ["dynamodb:GetItem table/t"]
        );
    }

    #[test]
    fn an_operation_not_understood_is_recorded_on_every_resource() {
        let input = aws_sdk_dynamodb::operation::list_tables::ListTablesInput::builder().build().unwrap();
        assert_eq!(checked("ListTables", input), ["dynamodb:ListTables *"]);
    }
}
