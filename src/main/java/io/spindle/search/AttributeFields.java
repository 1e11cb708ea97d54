package io.spindle.search;

import io.spindle.api.AttributeFilter;
import io.spindle.api.AttributeFilter.Comparison;
import io.spindle.api.AttributeFilter.Compound;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.DoubleField;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TermRangeQuery;
import org.apache.lucene.util.BytesRef;

/**
 * How a file's attributes live in the index, and filters on them as Lucene queries. Each type has fields of its
 * own (strings as exact terms, numbers as doubles, booleans as the terms true/false), so a value only ever equals a
 * value of its own type: {@code "2020"} does not equal {@code 2020}. {@code ne} and {@code nin} match everything the
 * positive comparison does not, chunks without the attribute included. Strings order by their UTF-8 bytes.
 */
final class AttributeFields {
    private static final String STRING = "attr.s.";
    private static final String NUMBER = "attr.n.";
    private static final String BOOLEAN = "attr.b.";

    private AttributeFields() {}

    static void add(Document doc, Map<String, Object> attributes) {
        attributes.forEach((key, value) -> {
            switch (value) {
                case String s -> doc.add(new StringField(STRING + key, s, Field.Store.NO));
                case Number n -> doc.add(new DoubleField(NUMBER + key, number(n.doubleValue()), Field.Store.NO));
                case Boolean b -> doc.add(new StringField(BOOLEAN + key, b.toString(), Field.Store.NO));
                default -> throw new IllegalArgumentException("attribute '" + key + "' is a " + value.getClass().getSimpleName()
                        + "; attributes are strings, numbers or booleans");
            }
        });
    }

    static Query query(AttributeFilter filter) {
        return switch (filter) {
            case Compound c -> compound(c);
            case Comparison c -> comparison(c);
        };
    }

    private static Query compound(Compound compound) {
        if (compound.filters().isEmpty()) {
            return compound.all() ? MatchAllDocsQuery.INSTANCE : new MatchNoDocsQuery("or of no filters");
        }
        BooleanQuery.Builder query = new BooleanQuery.Builder();
        for (AttributeFilter filter : compound.filters()) {
            query.add(query(filter), compound.all() ? Occur.FILTER : Occur.SHOULD);
        }
        return query.build();
    }

    private static Query comparison(Comparison c) {
        String key = c.key();
        return switch (c.comparator()) {
            case EQ -> equal(key, c.value());
            case NE -> not(equal(key, c.value()));
            case IN -> in(key, (List<?>) c.value());
            case NIN -> not(in(key, (List<?>) c.value()));
            case GT, GTE, LT, LTE -> range(c);
        };
    }

    private static Query equal(String key, Object value) {
        return switch (value) {
            case String s -> new TermQuery(new Term(STRING + key, s));
            case Double d -> DoubleField.newExactQuery(NUMBER + key, number(d));
            case Boolean b -> new TermQuery(new Term(BOOLEAN + key, b.toString()));
            default -> throw new IllegalArgumentException("not a filter value: " + value);
        };
    }

    private static Query in(String key, List<?> values) {
        List<BytesRef> strings = new ArrayList<>();
        List<Double> numbers = new ArrayList<>();
        for (Object value : values) {
            if (value instanceof String s) {
                strings.add(new BytesRef(s));
            } else {
                numbers.add(number((Double) value));
            }
        }
        BooleanQuery.Builder query = new BooleanQuery.Builder();
        if (!strings.isEmpty()) {
            query.add(new TermInSetQuery(STRING + key, strings), Occur.SHOULD);
        }
        if (!numbers.isEmpty()) {
            query.add(DoubleField.newSetQuery(NUMBER + key, numbers.stream().mapToDouble(Double::doubleValue).toArray()), Occur.SHOULD);
        }
        return values.isEmpty() ? new MatchNoDocsQuery("in no values") : query.build();
    }

    private static Query range(Comparison c) {
        boolean lower = c.comparator() == AttributeFilter.Comparator.GT || c.comparator() == AttributeFilter.Comparator.GTE;
        boolean inclusive = c.comparator() == AttributeFilter.Comparator.GTE || c.comparator() == AttributeFilter.Comparator.LTE;
        if (c.value() instanceof String s) {
            return lower ? TermRangeQuery.newStringRange(STRING + c.key(), s, null, inclusive, false)
                    : TermRangeQuery.newStringRange(STRING + c.key(), null, s, false, inclusive);
        }
        double v = number((Double) c.value());
        return lower
                ? DoubleField.newRangeQuery(NUMBER + c.key(), inclusive ? v : Math.nextUp(v), Double.POSITIVE_INFINITY)
                : DoubleField.newRangeQuery(NUMBER + c.key(), Double.NEGATIVE_INFINITY, inclusive ? v : Math.nextDown(v));
    }

    private static Query not(Query query) {
        return new BooleanQuery.Builder()
                .add(MatchAllDocsQuery.INSTANCE, Occur.FILTER)
                .add(query, Occur.MUST_NOT)
                .build();
    }

    /** -0.0 and 0.0 are one number to a client, two to the index. */
    private static double number(double d) {
        return d + 0.0;
    }
}
