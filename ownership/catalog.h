/* catalog.h - Backstage catalog files (catalog-info.yaml): every YAML document
 * of a file, "---" separated, read into the entity fields ownership needs.
 *
 * Kept for every entity: kind, apiVersion, metadata.name, metadata.namespace
 * ("default" when absent), spec.owner (as written, and its canonical team,
 * see team.h), spec.type, spec.lifecycle, spec.system, and the 1-based line
 * of the document (its first key). Per kind:
 *   API        spec.definition: inline text, or a substitution
 *              ({$text|$yaml|$json: ./file.yaml | https://...}) kept as the
 *              reference string, never read or fetched here;
 *   Component  spec.providesApis (refs as written);
 *   Group      spec.parent, spec.children, spec.members;
 *   User       spec.memberOf.
 * A document that is not an entity (not a mapping, or no kind/apiVersion), or
 * an entity without metadata.name, is skipped with a warning
 * "FILE:LINE: reason". Empty documents are skipped silently. Aliases are not
 * followed (a field given as an alias reads as absent).
 *
 * Known teams are the Group entities, by canonical name ("team-c", or
 * "ns/name" outside the default namespace). */
#ifndef AR_BCATALOG_H
#define AR_BCATALOG_H

#include <stddef.h>

enum ar_entity_kind {
    AR_ENT_API,
    AR_ENT_COMPONENT,
    AR_ENT_GROUP,
    AR_ENT_SYSTEM,
    AR_ENT_USER,
    AR_ENT_DOMAIN,
    AR_ENT_RESOURCE,
    AR_ENT_LOCATION,
    AR_ENT_OTHER,   /* any other kind (Template, ...): kept with the common fields */
};

struct ar_entity {
    enum ar_entity_kind kind;
    const char *kind_name;       /* as written, e.g. "API" */
    const char *api_version;
    const char *name;
    const char *ns;              /* metadata.namespace, "default" when absent */
    const char *owner;           /* spec.owner as written, or NULL */
    const char *owner_team;      /* canonical form of owner (team.h), or NULL */
    const char *type;            /* spec.type */
    const char *lifecycle;       /* spec.lifecycle */
    const char *system;          /* spec.system */
    /* API */
    const char *definition;      /* inline definition text, or NULL */
    const char *definition_ref;  /* "./petstore.yaml" or "https://...", or NULL */
    const char *definition_subst;/* "$text", "$yaml" or "$json" with a ref */
    /* Component */
    const char *const *provides_apis;
    size_t nprovides_apis;
    /* Group */
    const char *parent;
    const char *const *children;
    size_t nchildren;
    const char *const *members;
    size_t nmembers;
    /* User */
    const char *const *member_of;
    size_t nmember_of;
    unsigned line;               /* 1-based line of the document's first key */
    unsigned doc;                /* 0-based index of the YAML document in the file */
};

struct ar_bcatalog;

/* Parse a whole file (data need not be NUL-terminated). Returns NULL with
 * "FILE:LINE:COL: reason" when the YAML itself is bad. */
struct ar_bcatalog *ar_bcatalog_parse(const char *file, const char *data, size_t len,
                                      char *err, size_t errsz);
void ar_bcatalog_free(struct ar_bcatalog *c);

const char *ar_bcatalog_file(const struct ar_bcatalog *c);
size_t ar_bcatalog_count(const struct ar_bcatalog *c);
const struct ar_entity *ar_bcatalog_entity(const struct ar_bcatalog *c, size_t i);
/* Number of YAML documents read (entities, skipped and empty ones). */
size_t ar_bcatalog_document_count(const struct ar_bcatalog *c);

size_t ar_bcatalog_warning_count(const struct ar_bcatalog *c);
const char *ar_bcatalog_warning(const struct ar_bcatalog *c, size_t i);

/* An entity by kind and name (case-insensitive, as Backstage compares them);
 * ns NULL means "default". NULL if absent. */
const struct ar_entity *ar_bcatalog_find(const struct ar_bcatalog *c, enum ar_entity_kind kind,
                                         const char *ns, const char *name);

/* Known teams: canonical names of the Group entities, in file order. */
size_t ar_bcatalog_team_count(const struct ar_bcatalog *c);
const char *ar_bcatalog_team(const struct ar_bcatalog *c, size_t i);

/* Components that provide the API named api_name in namespace api_ns (NULL:
 * "default"): a providesApis ref "[api:][ns/]name" whose namespace defaults to
 * the component's. Writes up to max entities to out, returns how many match. */
size_t ar_bcatalog_api_providers(const struct ar_bcatalog *c, const char *api_ns,
                                 const char *api_name, const struct ar_entity **out,
                                 size_t max);

/* Kind name ("API", "Component", ...) -> enum (case-insensitive). */
enum ar_entity_kind ar_entity_kind_from(const char *s);

#endif
