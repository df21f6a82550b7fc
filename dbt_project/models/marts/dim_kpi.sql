select
    node_code,
    parent_code,
    node_depth::integer as node_level,
    kind,
    weight::double as weight,
    polarity::integer as polarity,
    cap_high::double as cap_high,
    unit,
    period_basis,
    name_it,
    name_en,
    formula_en,
    plan_line::varchar as plan_line,
    node_path::varchar[] as node_path,
    tree_order::integer as tree_order
from {{ ref('int_kpi_tree') }}
