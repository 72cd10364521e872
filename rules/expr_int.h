/*
 * Internal to the rule expression code: the syntax tree shared by the
 * parser (expr_parse.c) and the evaluator (expr_eval.c).  Not an API.
 */
#ifndef RULES_EXPR_INT_H
#define RULES_EXPR_INT_H

#include "rules/expr.h"

enum rl_kind { N_NUM, N_STR, N_VSEL, N_MSEL, N_CALL, N_AGG, N_BIN, N_UNARY,
    N_PAREN };
enum rl_type { T_SCALAR, T_VECTOR, T_MATRIX, T_STRING };

/* Binary operators, grouped by precedence (see prec[] in expr_parse.c). */
enum rl_binop { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_ATAN2, OP_POW,
    OP_EQ, OP_NE, OP_LE, OP_LT, OP_GE, OP_GT, OP_AND, OP_OR, OP_UNLESS };

enum rl_aggop { AGG_SUM, AGG_AVG, AGG_MIN, AGG_MAX, AGG_COUNT, AGG_TOPK,
    AGG_BOTTOMK };

enum rl_fid { F_RATE, F_IRATE, F_INCREASE, F_DELTA, F_AVG_OT, F_MIN_OT,
    F_MAX_OT, F_SUM_OT, F_COUNT_OT, F_LAST_OT, F_QUANTILE_OT, F_ABSENT,
    F_ABSENT_OT, F_CHANGES, F_RESETS, F_ABS, F_CEIL, F_FLOOR, F_EXP, F_LN,
    F_LOG2, F_LOG10, F_SQRT, F_CLAMP_MIN, F_CLAMP_MAX, F_TIME, F_VECTOR,
    F_SCALAR, F_HQUANTILE };

struct rl_func {
	const char	*name;
	enum rl_fid	 id;
	size_t		 nargs;
	enum rl_type	 argt[2];
	enum rl_type	 ret;
};

enum rl_card { CARD_ONE_TO_ONE, CARD_MANY_TO_ONE, CARD_ONE_TO_MANY };
enum rl_matching { MATCH_NONE, MATCH_ON, MATCH_IGNORING };

struct rl_strlist {
	char	**v;
	size_t	  n;
};

struct rl_expr {
	enum rl_kind		 kind;
	enum rl_type		 type;
	size_t			 pos;		/* byte offset in the source */
	int			 height;	/* of the tree below, >= 1 */

	double			 num;		/* N_NUM */
	char			*str;		/* N_STR */

	/* N_VSEL, N_MSEL */
	char			*name;		/* NULL if only {...} */
	struct rl_matcher	*m;
	size_t			 nm;
	int64_t			 range_ms;	/* N_MSEL */
	int64_t			 offset_ms;

	/* N_CALL */
	const struct rl_func	*fn;
	struct rl_expr		*args[2];
	size_t			 nargs;

	/* N_AGG */
	enum rl_aggop		 agg;
	int			 grouped;	/* by/without given */
	int			 without;
	struct rl_strlist	 grp;
	struct rl_expr		*param;		/* topk/bottomk k */

	/* N_BIN (lhs, rhs), N_UNARY and N_PAREN (lhs), N_AGG (lhs) */
	enum rl_binop		 op;		/* OP_ADD/OP_SUB for N_UNARY */
	int			 ret_bool;
	enum rl_matching	 matching;
	enum rl_card		 card;
	struct rl_strlist	 mlabels;	/* on/ignoring list */
	struct rl_strlist	 include;	/* group_x list */
	struct rl_expr		*lhs;
	struct rl_expr		*rhs;
};

int	rl_binop_is_cmp(enum rl_binop);
/* Is s one of the list's names? */
int	rl_strlist_has(const struct rl_strlist *, const char *s);
int	rl_binop_is_set(enum rl_binop);

#endif
