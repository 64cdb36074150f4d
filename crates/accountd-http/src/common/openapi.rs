//! What every OpenAPI document gets after its routes are collected: each `{name}` of a path is a
//! declared, required string path parameter, even where a handler's `#[utoipa::path]` did not
//! name it — so generated clients and schemathesis can call every operation.

use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi, RefOr, Required};

fn operations(item: &PathItem) -> impl Iterator<Item = &Operation> {
    [&item.get, &item.put, &item.post, &item.delete, &item.options, &item.head, &item.patch, &item.trace]
        .into_iter()
        .flatten()
}

fn declares(params: &Option<Vec<RefOr<utoipa::openapi::path::Parameter>>>, name: &str) -> bool {
    params.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.name == name && p.parameter_in == ParameterIn::Path))
}

/// Declares, at the path level, every path parameter some operation of the path leaves out.
pub fn declare_path_params(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let names: Vec<String> =
            path.split('{').skip(1).filter_map(|s| s.split('}').next()).map(str::to_string).collect();
        for name in names {
            if declares(&item.parameters, &name) || operations(item).all(|op| declares(&op.parameters, &name)) {
                continue;
            }
            let param = ParameterBuilder::new()
                .name(&name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build();
            item.parameters.get_or_insert_with(Vec::new).push(RefOr::T(param));
        }
    }
}
