/* classify.h - nDPI 4.2 behind a thin wrapper (the only file that includes
 * ndpi_api.h): HTTP on any port, TLS with the ClientHello's SNI and ALPN. */
#ifndef AR_CLASSIFY_H
#define AR_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

struct ar_classifier;
struct ar_dpi_flow;

enum ar_dpi_result { AR_DPI_PENDING, AR_DPI_HTTP, AR_DPI_TLS, AR_DPI_OTHER, AR_DPI_UNKNOWN };

/* Returns NULL (with a reason in err) when nDPI cannot be initialized. */
struct ar_classifier *ar_classifier_new(char *err, size_t errsz);
void ar_classifier_free(struct ar_classifier *c);

struct ar_dpi_flow *ar_dpi_flow_new(void);
void ar_dpi_flow_free(struct ar_dpi_flow *f);
/* One IP packet of the flow (l3 = IP header). Returns PENDING until nDPI
 * decides; then the verdict. */
enum ar_dpi_result ar_dpi_packet(struct ar_classifier *c, struct ar_dpi_flow *f,
                                 const uint8_t *l3, uint32_t l3_len, double ts);
/* Stop: ask nDPI for its best guess. */
enum ar_dpi_result ar_dpi_giveup(struct ar_classifier *c, struct ar_dpi_flow *f);
/* TLS ClientHello fields ("" when absent). */
void ar_dpi_tls_info(const struct ar_dpi_flow *f, char *sni, size_t snisz, char *alpn,
                     size_t alpnsz);

#endif
