select
    structure_code,
    name,
    level,
    structure_type,
    parent_code,
    regional_entity_code,
    geographic_region,
    cost_cluster
from {{ ref('structures') }}
